// The koa-session external store
export { type KoaStore, type KoaStoreGetOptions, type KoaStoreSetOptions, koaStore } from './koa-store.js'
