// The koa-session external store
export { type KoaStore, type KoaStoreGetOptions, type KoaStoreSetOptions, koaStore } from './koa-store.js'
// A session shared with PHP: the plain PHPSESSID cookie, driving the manager directly
export { type KoaPhpContext, type KoaPhpSessionOptions, koaPhpSession } from './php-session.js'
