// The express-session store
export {
  type ExpressStoreOptions,
  expressStore,
  PENDING_FIELD,
  SessileExpressStore,
} from './express-store.js'
