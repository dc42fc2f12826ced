// The express-session store
export { expressStore, PENDING_FIELD, SessileExpressStore } from './express-store.js'
