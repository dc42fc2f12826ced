export const PACKAGE = '@sessile/filters'
