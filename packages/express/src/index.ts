export const PACKAGE = '@sessile/express'
