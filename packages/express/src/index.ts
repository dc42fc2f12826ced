// The express-session store

export { expressStore, SessileExpressStore } from './express-store.js'

// A session shared with PHP: the plain PHPSESSID cookie, driving the manager directly

export { type PhpSessionOptions, type PhpSessionRequest, phpSession } from './php-session.js'
