// Over 300 lines on purpose: every option of createSessions with its documentation and its check
// side by side, so one reads what an option means and what it accepts in one place.
import { fail, resolveIds, toSecret } from './_internal/ids-and-secrets.js'
import { type Duration, describe, parseDuration } from './duration.js'
import { checkFilterId } from './envelope.js'
import { SessionError } from './errors.js'
import type { Filter } from './filter.js'
import { DEFAULT_ID_BYTES, type IdFormat, MIN_ID_BYTES } from './ids.js'
import type { SessionData } from './serialize.js'
import type { SessionStore } from './store.js'

/** Options of {@link createSessions}. */
export interface SessionsOptions<T extends SessionData = SessionData> {
  /** Where sessions live: `sqliteStore`, `pgStore`, `mysqlStore`, `pgliteStore` from `@sessile/drizzle`, or `MemoryStore`. */
  store: SessionStore
  /**
   * Filters applied to every payload: encode in this order, decode in reverse.
   * @default []
   */
  filters?: readonly Filter[]
  /**
   * Filters that are no longer in `filters` but whose old payloads must stay readable
   * (an encryptor holding a retired key, say). gzip and brotli are always readable.
   * @default []
   */
  decoders?: readonly Filter[]
  /**
   * ADOdb's EXPIREREF: the reference stored beside the session (usually the user id), indexed,
   * handed to the notifier when the session expires and used by "log this user out everywhere".
   * @default () => null
   */
  ref?: (data: T) => string | number | null | undefined
  /**
   * Idle timeout: a session not used for this long expires.
   * @default '30m'
   */
  idleTimeout?: Duration
  /**
   * Absolute timeout: no session lives longer than this from its creation, however active.
   * `false` turns it off.
   * @default '24h'
   */
  absoluteTimeout?: Duration | false
  /**
   * A session's expiry is moved only when it would move by at least this share of its ttl (the
   * idle timeout, or the lifetime an adapter sets, such as express-session's `cookie.maxAge`):
   * an unchanged session is then not written at all, so read-only requests cause almost no
   * writes, and a changed one is written with its expiry left as it is, so frequent writes move
   * no index entry. A session therefore expires between `(1 - touchShare) × ttl` and `ttl` after
   * its last use; `0` moves the expiry on every request.
   * @default 0.1
   */
  touchShare?: number
  /**
   * Largest serialised session in bytes (before filters). Larger data is refused with `E_TOO_LARGE`;
   * decompression is capped at the same size.
   * @default 1048576
   */
  maxSize?: number
  /**
   * Server secret(s) for storing keys hashed (HMAC-SHA-256), so a copy of the table holds no
   * usable session id. The first secret hashes new sessions; later ones are tried on read
   * (one extra lookup each on a miss) so a secret can be rotated. At least 32 bytes each.
   */
  secret?: string | Uint8Array | readonly (string | Uint8Array)[]
  /**
   * Random bytes per session id (at least 16 = 128 bits).
   * @default 32
   */
  idBytes?: number
  /**
   * The shape of the ids this manager issues (and accepts), when not Sessile's own base64url ids:
   * e.g. PHP's ids for a session shared with a PHP app. Must have `generate` and carry at least
   * 122 random bits. Not together with `idBytes`.
   * @default sessileIds(idBytes)
   */
  ids?: IdFormat
  /**
   * Further id shapes accepted from cookies (never issued): the default ids of the frameworks the
   * adapters serve, so a store swap works with the framework's own id generator. Unknown ids of
   * any shape still get a fresh session (strict mode). `[]` accepts only `ids`.
   * @default [expressSessionIds, uuidV4Ids]
   */
  acceptIds?: readonly IdFormat[]
  /**
   * How many times a save retries (re-read, merge, write, with jittered backoff) after losing a
   * race to a concurrent writer of the same session. Then it fails with `E_CONFLICT`.
   * @default 64
   */
  maxMergeAttempts?: number
  /**
   * Serialised mode: PHP's session lock without holding a database connection across the request.
   * `load` takes a lease on the session row (waiting at most `wait` for a request that holds it),
   * and `commit` or `release` gives it back; a lease its holder never gives back lapses after
   * `lease`. Requests of one session then run one after another, so read-modify-write of one field
   * (a counter) loses nothing. Costs one statement more per request (the release) and queues
   * requests of the same session. Needs a store with `lease`/`release` (every Sessile store).
   * `true` means `{ lease: '10s', wait: '15s' }`.
   * @default false
   */
  serialize?: boolean | { lease?: Duration; wait?: Duration }
  /**
   * Hot sessions (default mode only): a session whose saves meet a concurrent writer's is marked
   * hot for `cooldown`, and while hot its requests take the row's lease at load, as in serialised
   * mode, so they run one after another instead of re-reading and re-writing against each other.
   * A conflicting save takes the lease before it re-reads, so it retries once, not in a loop.
   * Cold sessions and read-only traffic keep lease-free reads. A request waits at most `wait`
   * for its turn, then goes on without it (concurrent saves still merge); a lease its holder never
   * gives back lapses after `lease`. Needs a store with `lease`/`release`; `false` turns it off.
   * @default { cooldown: '2s', wait: '5s', lease: '5s' }
   */
  hot?: false | { cooldown?: Duration; wait?: Duration; lease?: Duration }
}

export interface ResolvedOptions<T extends SessionData> {
  store: SessionStore
  filters: readonly Filter[]
  decoders: ReadonlyMap<string, Filter>
  ref: (data: T) => string | null
  idle: number
  absolute: number | undefined
  touchShare: number
  maxSize: number
  secrets: Buffer[]
  idBytes: number
  /** The format the manager issues ids in. */
  ids: IdFormat & { generate(): string }
  /** Every format an id may have to reach the store: `ids` first, then `acceptIds`. */
  acceptIds: readonly IdFormat[]
  maxMergeAttempts: number
  /** Serialised mode's lease lifetime and bounded wait, in ms; null when off. */
  serialize: { lease: number; wait: number } | null
  /** Hot sessions: how long a session stays hot, and its lease's wait and lifetime, in ms; null when off. */
  hot: { cooldown: number; wait: number; lease: number } | null
}

// Refs are stored as UTF-8; a lone surrogate has no UTF-8 form and would become U+FFFD.
const LONE_SURROGATE = /\p{Surrogate}/u

function isStore(s: unknown): s is SessionStore {
  if (typeof s !== 'object' || s === null) return false
  const o = s as Record<string, unknown>
  return ['read', 'write', 'touch', 'destroy', 'sweep', 'count'].every((m) => typeof o[m] === 'function')
}

function isFilter(f: unknown): f is Filter {
  if (typeof f !== 'object' || f === null) return false
  const o = f as Record<string, unknown>
  return typeof o.id === 'string' && typeof o.encode === 'function' && typeof o.decode === 'function'
}

/**
 * A filter of the current list that also reads what a retired filter of the same id wrote (an
 * encryptor under a retired keyring): each layer is tried with the current filter first. Both
 * authenticate, so the fallback never accepts a payload that neither would.
 */
function withRetired(current: Filter, old: Filter): Filter {
  return {
    ...current,
    id: current.id,
    encode: (input, context) => current.encode(input, context),
    async decode(input, param, context) {
      try {
        return await current.decode(input, param, context)
      } catch (e) {
        try {
          return await old.decode(input, param, context)
        } catch {
          throw e
        }
      }
    },
    // Payloads the retired filter wrote are rewritten by the current one.
    isCurrent: (param) => (current.isCurrent ? current.isCurrent(param) : true),
  }
}

/** Validate options once, at construction, with a clear message for each mistake. */
export function resolveOptions<T extends SessionData>(
  options: SessionsOptions<T>,
  builtins: readonly Filter[],
): ResolvedOptions<T> {
  if (typeof options !== 'object' || options === null) fail('createSessions needs an options object')
  if (!isStore(options.store))
    fail('store must implement SessionStore (read, write, touch, destroy, sweep, count, …)')
  const filters = options.filters ?? []
  if (!Array.isArray(filters)) fail('filters must be an array of filters')
  const extra = options.decoders ?? []
  if (!Array.isArray(extra)) fail('decoders must be an array of filters')
  const seen = new Set<string>()
  for (const f of filters as unknown[]) {
    if (!isFilter(f)) fail(`filters must contain filters with id, encode and decode (got ${describe(f)})`)
    const filter = f as Filter
    checkFilterId(filter.id)
    if (seen.has(filter.id)) fail(`filter "${filter.id}" is listed twice`)
    seen.add(filter.id)
  }
  const decoders = new Map<string, Filter>()
  for (const f of builtins) decoders.set(f.id, f)
  for (const f of extra as unknown[]) {
    if (!isFilter(f)) fail(`decoders must contain filters (got ${describe(f)})`)
    decoders.set((f as Filter).id, f as Filter)
  }
  const retired = new Set((extra as Filter[]).map((f) => f.id))
  for (const f of filters) {
    const old = decoders.get(f.id)
    decoders.set(f.id, old && old !== f && retired.has(f.id) ? withRetired(f, old) : f)
  }

  if (options.ref !== undefined && typeof options.ref !== 'function')
    fail('ref must be a function (data) => string | null')
  const userRef = options.ref
  const ref = (data: T): string | null => {
    if (!userRef) return null
    const r = userRef(data)
    if (r === null || r === undefined || r === '') return null
    if (typeof r === 'number' && Number.isFinite(r)) return String(r)
    if (typeof r === 'string' && r.length <= 255 && !r.includes('\u0000') && !LONE_SURROGATE.test(r)) return r
    throw new SessionError(
      'E_INVALID',
      'ref',
      'ref() must return a string of at most 255 characters (no NUL, no lone surrogates), a number or null',
    )
  }

  const idle = parseDuration(options.idleTimeout ?? '30m', 'idleTimeout')
  const absolute =
    options.absoluteTimeout === false
      ? undefined
      : parseDuration(options.absoluteTimeout ?? '24h', 'absoluteTimeout')
  if (absolute !== undefined && absolute < idle) fail('absoluteTimeout must not be shorter than idleTimeout')
  const touchShare = options.touchShare ?? 0.1
  if (typeof touchShare !== 'number' || !(touchShare >= 0 && touchShare <= 1))
    fail('touchShare must be a number from 0 to 1')
  const maxSize = options.maxSize ?? 1024 * 1024
  if (
    typeof maxSize !== 'number' ||
    !Number.isInteger(maxSize) ||
    maxSize < 2 ||
    maxSize > 256 * 1024 * 1024
  ) {
    fail('maxSize must be a whole number of bytes from 2 to 268435456')
  }
  // Present but undefined is a mistake (an unset environment variable), not "no secret".
  const rawSecrets = !Object.hasOwn(options, 'secret')
    ? []
    : Array.isArray(options.secret)
      ? options.secret
      : [options.secret]
  if (Array.isArray(options.secret) && options.secret.length === 0) fail('secret must not be an empty list')
  const secrets = (rawSecrets as unknown[]).map(toSecret)
  const idBytes = options.idBytes ?? DEFAULT_ID_BYTES
  if (!Number.isInteger(idBytes) || idBytes < MIN_ID_BYTES || idBytes > 96) {
    fail(`idBytes must be a whole number from ${MIN_ID_BYTES} (128 bits) to 96`)
  }
  const { ids, acceptIds } = resolveIds(options, idBytes)
  const maxMergeAttempts = options.maxMergeAttempts ?? 64
  if (!Number.isInteger(maxMergeAttempts) || maxMergeAttempts < 1 || maxMergeAttempts > 1000) {
    fail('maxMergeAttempts must be a whole number from 1 to 1000')
  }
  const serialize = resolveSerialize(options.serialize, options.store)
  return {
    store: options.store,
    filters,
    decoders,
    ref,
    idle,
    absolute,
    touchShare,
    maxSize,
    secrets,
    idBytes,
    ids,
    acceptIds,
    maxMergeAttempts,
    serialize,
    hot: serialize ? null : resolveHot(options.hot, options.store),
  }
}

function resolveHot(
  value: SessionsOptions['hot'],
  store: SessionStore,
): { cooldown: number; wait: number; lease: number } | null {
  if (value === false) return null
  if (value !== undefined && (typeof value !== 'object' || value === null))
    fail('hot must be false or { cooldown, wait, lease }')
  // A store without leases (a third party's) keeps the plain merge.
  if (typeof store.lease !== 'function' || typeof store.release !== 'function') return null
  const given = value ?? {}
  const cooldown = parseDuration(given.cooldown ?? '2s', 'hot.cooldown')
  const wait = parseDuration(given.wait ?? '5s', 'hot.wait')
  const lease = parseDuration(given.lease ?? '5s', 'hot.lease')
  if (cooldown < 1 || cooldown > 3_600_000) fail('hot.cooldown must be from 1 ms to 1 hour')
  if (wait < 0 || wait > 3_600_000) fail('hot.wait must be from 0 to 1 hour')
  if (lease < 100 || lease > 3_600_000) fail('hot.lease must be from 100 ms to 1 hour')
  return { cooldown, wait, lease }
}

function resolveSerialize(
  value: SessionsOptions['serialize'],
  store: SessionStore,
): { lease: number; wait: number } | null {
  if (value === undefined || value === false) return null
  if (value !== true && (typeof value !== 'object' || value === null))
    fail('serialize must be true, false or { lease, wait }')
  if (typeof store.lease !== 'function' || typeof store.release !== 'function')
    fail(`serialize needs a store with lease() and release(); store "${store.name}" has none`)
  const given = value === true ? {} : value
  const lease = parseDuration(given.lease ?? '10s', 'serialize.lease')
  const wait = parseDuration(given.wait ?? '15s', 'serialize.wait')
  if (lease < 100 || lease > 3_600_000) fail('serialize.lease must be from 100 ms to 1 hour')
  if (wait < 0 || wait > 3_600_000) fail('serialize.wait must be from 0 to 1 hour')
  return { lease, wait }
}
