export const PACKAGE = '@sessile/drizzle'
