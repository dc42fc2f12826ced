export const PACKAGE = '@sessile/koa'
