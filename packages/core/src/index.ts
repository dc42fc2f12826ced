// The session manager adapters drive

// For store authors: the argument checks every store applies before touching its backend
export {
  checkDestroyHint as validateDestroyHint,
  checkKey as validateKey,
  checkLease as validateLease,
  checkLimit as validateLimit,
  checkRef as validateRef,
  checkToken as validateToken,
  checkTouch as validateTouch,
  checkWrite as validateWrite,
} from './_internal/validate.js'
export { builtinDecoders, COMPRESSED, decodeCompressed, decompress, STORED } from './_internal/zlib.js'
export { type Duration, parseDuration } from './duration.js'
export {
  type DecodedEnvelope,
  decodeEnvelope,
  ENVELOPE_MAGIC,
  ENVELOPE_VERSION,
  encodeEnvelope,
  parseEnvelope,
} from './envelope.js'
// Errors
export { isSessionError, SessionError, type SessionErrorCode, storeError } from './errors.js'
// Events
export type { DestroyReason, Listener, SessionEvents } from './events.js'
// Filters and the payload envelope
export type { DecodeContext, EncodeContext, Encoded, Filter } from './filter.js'
// Ids, durations, serialisation
export {
  DEFAULT_ID_BYTES,
  expressSessionIds,
  generateId,
  type IdFormat,
  isWellFormedId,
  MIN_ID_BITS,
  MIN_ID_BYTES,
  sessileIds,
  storageKey,
  uuidV4Ids,
} from './ids.js'
export {
  type CommitOptions,
  type CommitResult,
  createSessions,
  type ListedSession,
  type SessionPage,
  type Sessions,
} from './manager.js'
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js'
export type { ResolvedOptions, SessionsOptions } from './options.js'
export { deserialize, type SessionData, serialize } from './serialize.js'
export { Session } from './session.js'
// The store contract
export type {
  DestroyHint,
  LeaseRequest,
  LeaseResult,
  ListOptions,
  ReadResult,
  SessionInfo,
  SessionRef,
  SessionStore,
  StoredSession,
  TouchRequest,
  WriteMode,
  WriteRequest,
  WriteResult,
} from './store.js'
export { touchSlack } from './store.js'
