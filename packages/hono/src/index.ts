export const PACKAGE = '@sessile/hono'
