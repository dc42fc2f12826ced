/**
 * `@sessile/core`: the store contract, the session manager adapters drive, filters, errors, ids
 * and the in-memory store. Each group's heading comment is followed by a blank line: Biome's import
 * sorting treats such a comment as a boundary, so the groups are never merged or reordered.
 */

// The session manager adapters drive

export {
  type CommitOptions,
  type CommitResult,
  createSessions,
  type ListedSession,
  type SessionPage,
  type Sessions,
} from './manager.js'
export type { ResolvedOptions, SessionsOptions } from './options.js'
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

// For store authors: the argument checks every store applies before touching its backend

export {
  validateDestroyHint,
  validateKey,
  validateLease,
  validateLimit,
  validateRef,
  validateToken,
  validateTouch,
  validateWrite,
} from './_internal/validate.js'

// For adapters: the unsigned cookie PHP's session module reads and writes, kept here because the
// Express and Koa PHP middlewares share no other package (and Hono reads cookies the same way)

export {
  type PlainCookie,
  type PlainCookieOptions,
  plainCookie,
  readCookie,
} from './_internal/plain-cookie.js'

// The in-memory store

export { MemoryStore, type MemoryStoreOptions } from './memory-store.js'

// Filters and the payload envelope

export { randomBytesPooled } from './_internal/random.js'
export { builtinDecoders, COMPRESSED, decodeCompressed, decompress, STORED } from './_internal/zlib.js'
export {
  type DecodedEnvelope,
  decodeEnvelope,
  ENVELOPE_MAGIC,
  ENVELOPE_VERSION,
  encodeEnvelope,
  parseEnvelope,
} from './envelope.js'
export type { DecodeContext, EncodeContext, Encoded, Filter } from './filter.js'

// Errors

export { isSessionError, SessionError, type SessionErrorCode, storeError } from './errors.js'

// Events

export type { DestroyReason, Listener, SessionEvents } from './events.js'

// Ids, durations, serialisation

export { type Duration, parseDuration } from './duration.js'
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
export { deserialize, type SessionData, serialize } from './serialize.js'
