// The express-session store
export { expressStore, SessileExpressStore } from './express-store.js'
