export const PACKAGE = '@sessile/notify'
