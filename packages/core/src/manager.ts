import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { bytesEqual } from './_internal/bytes.js'
import { Turns } from './_internal/turns.js'
import { builtinDecoders } from './_internal/zlib.js'
import { decodeEnvelope, encodeEnvelope, PLAIN_HEADER, plainBody } from './envelope.js'
import { isSessionError, SessionError, storeError } from './errors.js'
import { Emitter, type Listener, type SessionEvents } from './events.js'
import { generateId, isWellFormedId, storageKey } from './ids.js'
import { type ResolvedOptions, resolveOptions, type SessionsOptions } from './options.js'
import { deserialize, type SessionData, serializeText } from './serialize.js'
import { type HeldLease, kState, type LoadedState, Session, type SessionInternals } from './session.js'
import {
  type DestroyHint,
  type ReadResult,
  type SessionInfo,
  type SessionRef,
  type SessionStore,
  touchSlack,
  type WriteResult,
} from './store.js'

const SOURCE = 'sessions'

/** A session's serialised bytes and, when no filter runs, the stored payload they are a view of. */
interface Plain {
  plain: Uint8Array
  /** The envelope, ready to store; null when filters encode it at write time. */
  payload: Uint8Array | null
}

interface Decoded<T> {
  data: T
  plain: Uint8Array
  current: boolean
}

// `{}`: a session emptied of every field is deleted, not stored.
const isEmptyObject = (b: Uint8Array): boolean => b.byteLength === 2 && b[0] === 0x7b && b[1] === 0x7d

/** What a commit did, and what the adapter must do with the cookie. */
export interface CommitResult {
  /**
   * - `set`: send the cookie with `id` (a new session was stored, or the id was regenerated).
   * - `clear`: delete the cookie (destroyed, emptied, or the presented session no longer exists).
   * - `keep`: leave the cookie as it is.
   */
  cookie: 'set' | 'clear' | 'keep'
  /** The session id after the commit. */
  id: string
  /** The row's expiry (store clock) when a row exists after the commit. */
  expires: Date | null
  /** What reached the store. */
  write: 'none' | 'insert' | 'update' | 'touch' | 'destroy'
}

/** How an adapter may help a commit. */
export interface CommitOptions {
  /**
   * The adapter vouches that `session.data` still equals what was loaded (its framework compared
   * it already, as express-session does before calling `touch`), so the commit skips serialising
   * it and only moves the expiry (throttled by `touchShare`). Ignored for new, regenerated or
   * destroyed sessions. A wrong vouch loses the unsaved change, so only pass it with proof.
   * @default false
   */
  unchanged?: boolean
}

/** The framework-neutral session manager that every adapter drives. */
export interface Sessions<T extends SessionData = SessionData> {
  readonly store: SessionStore
  readonly options: Readonly<ResolvedOptions<T>>
  /**
   * The session for a cookie value. A missing, malformed, unknown, expired or undecodable id gives
   * a fresh session with a new id (strict mode); only a store failure throws (`E_STORE`).
   */
  load(id: string | null | undefined): Promise<Session<T>>
  /**
   * Save what changed; see {@link CommitResult}. In serialised mode this also gives the session's
   * lease back, whatever the outcome.
   */
  commit(session: Session<T>, options?: CommitOptions): Promise<CommitResult>
  /**
   * Serialised mode: give the lease back without saving (a request that failed or ends without
   * commit). A no-op for sessions that hold no lease, so adapters may call it unconditionally.
   */
  release(session: Session<T>): Promise<void>
  /** A new session, not stored until it holds data and is committed. */
  create(data?: T): Session<T>
  /** Delete the session with this id, if any. */
  destroy(id: string, reason?: 'destroy' | 'evict'): Promise<SessionRef | null>
  /** Live sessions of a ref, oldest first (a device list). Keys are storage keys. */
  findByRef(ref: string | number): Promise<SessionInfo[]>
  /** Delete every session of a ref ("log this user out everywhere"). */
  destroyByRef(
    ref: string | number,
    options?: { except?: string; reason?: 'ref' | 'evict' },
  ): Promise<SessionRef[]>
  /** The number of live sessions. */
  count(): Promise<number>
  /** Refs with at least one live session. */
  refs(limit?: number): Promise<string[]>
  /** The storage key of a session id (its HMAC when a secret is set). */
  keyOf(id: string): string
  /** A fresh id: `idBytes` bytes from the CSPRNG, base64url. */
  generateId(): string
  /** Whether a cookie value has the shape of an id this manager issues. */
  isWellFormedId(id: unknown): id is string
  on<K extends keyof SessionEvents>(name: K, listener: Listener<SessionEvents[K]>): () => void
  /** @internal Emit an event on this manager (used by `@sessile/notify`). */
  emit<K extends keyof SessionEvents>(name: K, event: SessionEvents[K]): Promise<void>
}

/**
 * Create the session manager.
 *
 * @example
 * const sessions = createSessions({
 *   store: new MemoryStore(),
 *   ref: (data) => (typeof data.userId === 'string' ? data.userId : null),
 *   idleTimeout: '30m',
 *   absoluteTimeout: '12h',
 * })
 * const session = await sessions.load(cookieValue)
 * session.set('views', ((session.get('views') as number) ?? 0) + 1)
 * const result = await sessions.commit(session) // result.cookie: 'set' | 'clear' | 'keep'
 */
export function createSessions<T extends SessionData = SessionData>(
  options: SessionsOptions<T>,
): Sessions<T> {
  const o = resolveOptions(options, builtinDecoders)
  const { store } = o
  const events = new Emitter<SessionEvents>()
  const currentSecret = o.secrets[0]

  const keyOf = (id: string): string => storageKey(id, currentSecret)

  // A plain function, not an async one: one promise less per store call on the way that succeeds.
  function call<R>(action: string, fn: () => Promise<R>): Promise<R> {
    let pending: Promise<R>
    try {
      pending = fn()
    } catch (e) {
      pending = Promise.reject(e)
    }
    return pending.catch((e: unknown) => {
      throw storeError(`${SOURCE}] [${store.name}`, action, e)
    })
  }

  function fresh(presented: boolean, data?: T): Session<T> {
    return new Session<T>(generateId(o.idBytes), data ?? ({} as T), o.idle, {
      loaded: null,
      presented,
      destroyed: false,
      regenerate: false,
      touch: false,
    })
  }

  function readKey(id: string): Promise<ReadResult | null> {
    if (o.secrets.length <= 1) return call('read', () => store.read(keyOf(id)))
    return readRotated(id)
  }

  /** Secret rotation: the key under each secret in turn, newest first. */
  async function readRotated(id: string): Promise<ReadResult | null> {
    for (const secret of o.secrets) {
      const row = await call('read', () => store.read(storageKey(id, secret)))
      if (row) return row
    }
    return null
  }

  // A payload without envelope layers may be read without the filter machinery, unless a
  // configured filter is required (an encryptor: a plain payload would be a forgery).
  const plainReadable = !o.filters.some((f) => f.required === true)
  const noFilters = o.filters.length === 0

  /** The common case in one synchronous step: no layers to undo. Null: take {@link decodeRow}. */
  function decodePlain(row: ReadResult): Decoded<T> | null {
    if (!plainReadable) return null
    const plain = plainBody(row.data)
    if (plain === null || plain.byteLength > o.maxSize) return null
    try {
      return { data: deserialize(plain) as T, plain, current: noFilters }
    } catch {
      // Not JSON: decodeRow reports it.
      return null
    }
  }

  /** A row's session: at once when no layer needs undoing, else through the filters. */
  function decode(row: ReadResult): Decoded<T> | null | Promise<Decoded<T> | null> {
    return decodePlain(row) ?? decodeRow(row)
  }

  async function decodeRow(row: ReadResult): Promise<Decoded<T> | null> {
    try {
      const { plaintext, current } = await decodeEnvelope(row.data, row.key, o.decoders, o.filters, o.maxSize)
      return { data: deserialize(plaintext) as T, plain: plaintext, current }
    } catch (e) {
      const error = isSessionError(e)
        ? e
        : new SessionError('E_DECODE', SOURCE, 'payload could not be decoded', { cause: e })
      await events.emit('decodeError', { key: row.key, error })
      return null
    }
  }

  function stateOf(row: ReadResult, plain: Uint8Array, current: boolean): LoadedState {
    return {
      key: row.key,
      plain,
      version: row.version,
      ref: row.ref,
      created: row.created,
      expiry: row.expiry,
      storeNow: row.now,
      readAt: performance.now(),
      current,
    }
  }

  // Serialised mode: this process's queue per key, and the turn each key's holder has.
  const turns = new Turns()
  const holding = new Map<string, () => void>()

  const busy = (waited: number): SessionError =>
    new SessionError(
      'E_BUSY',
      SOURCE,
      `the session stayed locked by another request for ${waited} ms (serialize.wait); nothing was read`,
    )

  /** Take the row's lease, waiting (bounded) while another holder has it; null when there is no row. */
  async function takeLease(key: string, token: string, started: number): Promise<ReadResult | null> {
    const { lease, wait } = o.serialize as { lease: number; wait: number }
    const take = store.lease?.bind(store) as NonNullable<SessionStore['lease']>
    for (let attempt = 0; ; attempt++) {
      const r = await call('lease', () => take({ key, token, ttl: lease }))
      if (r.ok) return r.row
      if (r.reason === 'missing') return null
      const left = started + wait - performance.now()
      if (left <= 0) throw busy(wait)
      // Another process holds it: poll, never later than its lapse, with jittered backoff.
      const backoff = 2 + Math.random() * Math.min(100, 4 * 2 ** attempt)
      await sleep(Math.max(1, Math.min(left, r.wait + 1, backoff)))
    }
  }

  async function loadLeased(id: string): Promise<Session<T>> {
    const { lease, wait } = o.serialize as { lease: number; wait: number }
    const started = performance.now()
    const keys = o.secrets.length <= 1 ? [keyOf(id)] : o.secrets.map((s) => storageKey(id, s))
    for (const key of keys) {
      const left = Math.max(0, started + wait - performance.now())
      const end = await turns.enter(key, left, lease)
      if (!end) throw busy(wait)
      const token = randomBytes(12).toString('base64url')
      let row: ReadResult | null
      try {
        row = await takeLease(key, token, started)
      } catch (e) {
        end()
        throw e
      }
      if (!row) {
        end()
        continue
      }
      const held: HeldLease = { key, token, end }
      holding.set(key, end)
      const decoded = await decode(row)
      if (!decoded) {
        await giveBack(held, true).catch(() => {})
        return fresh(true)
      }
      const session = new Session<T>(id, decoded.data, o.idle, {
        loaded: stateOf(row, decoded.plain, decoded.current),
        presented: true,
        destroyed: false,
        regenerate: false,
        touch: false,
        lease: held,
      })
      return session
    }
    return fresh(true)
  }

  /** End the turn and, unless a write already did, release the row's lease. */
  async function giveBack(held: HeldLease, release: boolean): Promise<void> {
    try {
      if (release) {
        const free = store.release?.bind(store) as NonNullable<SessionStore['release']>
        await call('release', () => free(held.key, held.token))
      }
    } finally {
      held.end()
      if (holding.get(held.key) === held.end) holding.delete(held.key)
    }
  }

  async function release(session: Session<T>): Promise<void> {
    const st = internals(session)
    const held = st.lease
    if (!held) return
    st.lease = null
    await giveBack(held, true)
  }

  function internals(session: Session<T>): SessionInternals {
    if (!(session instanceof Session) || !session[kState]) {
      throw new SessionError('E_INVALID', SOURCE, 'commit needs a session made by this manager')
    }
    return session[kState]
  }

  function load(id: string | null | undefined): Promise<Session<T>> {
    const presented = typeof id === 'string' && id.length > 0
    if (!isWellFormedId(id, o.idBytes)) return Promise.resolve(fresh(presented))
    if (o.serialize) return loadLeased(id)
    return readKey(id).then((row) => (row ? loaded(id, row) : fresh(true)))
  }

  function loaded(id: string, row: ReadResult): Session<T> | Promise<Session<T>> {
    const decoded = decodePlain(row)
    if (decoded) return loadedSession(id, row, decoded)
    return decodeRow(row).then((d) => (d ? loadedSession(id, row, d) : fresh(true)))
  }

  function loadedSession(id: string, row: ReadResult, decoded: Decoded<T>): Session<T> {
    return new Session<T>(id, decoded.data, o.idle, {
      loaded: stateOf(row, decoded.plain, decoded.current),
      presented: true,
      destroyed: false,
      regenerate: false,
      touch: false,
    })
  }

  function encodePlain(data: T): Plain {
    const text = serializeText(data)
    let plain: Uint8Array
    let payload: Uint8Array | null = null
    if (noFilters) {
      // The envelope's header and the JSON in one allocation; the plain bytes are a view of it.
      payload = Buffer.from(PLAIN_HEADER + text, 'utf8')
      plain = payload.subarray(PLAIN_HEADER.length)
    } else {
      plain = Buffer.from(text, 'utf8')
    }
    if (plain.byteLength > o.maxSize) {
      throw new SessionError(
        'E_TOO_LARGE',
        SOURCE,
        `session data of ${plain.byteLength} bytes exceeds maxSize (${o.maxSize} bytes); nothing was written`,
      )
    }
    return { plain, payload }
  }

  /** Deletes the row and announces it; `known` is the ref read with it, when there was a read. */
  async function destroyKey(
    key: string,
    reason: SessionEvents['destroy']['reason'],
    known?: DestroyHint,
  ): Promise<SessionRef | null> {
    const gone = await call('destroy', () => store.destroy(key, known))
    if (gone) await events.emit('destroy', { key: gone.key, ref: gone.ref, reason })
    return gone
  }

  /** The `ref` event when a session gains or changes its ref; undefined (nothing to wait for) otherwise. */
  function announceRef(key: string, ref: string | null, previous: string | null): Promise<void> | undefined {
    return ref !== null && ref !== previous ? events.emit('ref', { key, ref, previous }) : undefined
  }

  /** Insert under a fresh id; a collision of 256 random bits is not expected, but is handled. */
  async function insertNew(
    session: Session<T>,
    p: Plain,
    ref: string | null,
  ): Promise<WriteResult & { ok: true }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const key = keyOf(session.id)
      const data = p.payload ?? (await encodeEnvelope(o.filters, p.plain, key, o.maxSize))
      const r = await call('write', () =>
        store.write({ key, data, ref, mode: 'insert', ttl: session.ttl, maxAge: o.absolute }),
      )
      if (r.ok) return r
      session.id = generateId(o.idBytes)
    }
    throw new SessionError('E_CONFLICT', SOURCE, 'could not find a free session id after 3 attempts')
  }

  // Apply our changes (ours vs base) on top of what a concurrent writer stored (theirs).
  // Fields only we changed and fields only they changed both survive; when both changed the same
  // field, the later save wins.
  function merge(base: SessionData, ours: SessionData, theirs: SessionData): T {
    const merged: SessionData = { ...theirs }
    const names = new Set([...Object.keys(base), ...Object.keys(ours)])
    for (const name of names) {
      const inOurs = Object.hasOwn(ours, name)
      const a = Object.hasOwn(base, name) ? JSON.stringify(base[name]) : undefined
      const b = inOurs ? JSON.stringify(ours[name]) : undefined
      if (a === b) continue
      if (inOurs && b !== undefined) merged[name] = ours[name]
      else delete merged[name]
    }
    return merged as T
  }

  async function update(
    session: Session<T>,
    state: LoadedState,
    p: Plain,
    firstRef: string | null,
    lease: string | undefined,
    keepExpiry: boolean,
  ): Promise<CommitResult> {
    // The three-way merge always compares the request's own data (ours) with what it loaded
    // (base): after a first merge session.data also holds the other writers' values of that
    // moment, which a second merge would otherwise take for our changes and write back stale.
    let base: SessionData | undefined
    let ours: SessionData | undefined
    let version = state.version
    let bytes = p
    let ref = firstRef
    for (let attempt = 0; attempt < o.maxMergeAttempts; attempt++) {
      if (attempt > 0) ref = o.ref(session.data)
      const data = bytes.payload ?? (await encodeEnvelope(o.filters, bytes.plain, state.key, o.maxSize))
      const r = await call('write', () =>
        store.write({
          key: state.key,
          data,
          ref,
          mode: 'update',
          version,
          ttl: session.ttl,
          maxAge: o.absolute,
          lease,
          keepExpiry,
        }),
      )
      if (r.ok) {
        const announced = announceRef(state.key, ref, state.ref)
        if (announced) await announced
        // The session now stands at the version it wrote, so its next commit does not conflict
        // with itself.
        state.plain = bytes.plain
        state.version = r.version
        state.ref = ref
        state.expiry = r.expiry
        state.current = true
        return { cookie: 'keep', id: session.id, expires: r.expiry, write: 'update' }
      }
      if (r.reason === 'missing') return gone(session)
      // Jittered backoff spreads out a crowd of writers on one session, so each round more of
      // them succeed instead of all re-reading the same winner at once.
      await sleep(Math.random() * Math.min(50, 2 ** attempt))
      const row = await call('read', () => store.read(state.key))
      if (!row) return gone(session)
      const theirs = await decode(row)
      if (!theirs) return gone(session)
      base ??= deserialize(state.plain)
      ours ??= session.data
      session.data = merge(base, ours, theirs.data)
      version = row.version
      bytes = encodePlain(session.data)
      if (bytesEqual(bytes.plain, theirs.plain)) {
        Object.assign(state, stateOf(row, theirs.plain, theirs.current))
        return { cookie: 'keep', id: session.id, expires: row.expiry, write: 'none' }
      }
    }
    throw new SessionError(
      'E_CONFLICT',
      SOURCE,
      `gave up saving after ${o.maxMergeAttempts} attempts: the session is being changed by many requests at once`,
    )
  }

  // The row went away while the request ran (logout elsewhere, expiry): never bring it back.
  // The session is over: a later commit of the same object (express-session calls touch after an
  // explicit save) must write nothing, not insert it again under the old id.
  function gone(session: Session<T>): CommitResult {
    const st = session[kState]
    st.loaded = null
    st.destroyed = true
    return { cookie: 'clear', id: session.id, expires: null, write: 'none' }
  }

  async function commit(session: Session<T>, options?: CommitOptions): Promise<CommitResult> {
    const st = internals(session)
    const unchanged = options?.unchanged === true
    const held = st.lease
    if (!held) return save(session, st, undefined, unchanged)
    st.lease = null
    let result: CommitResult | undefined
    try {
      result = await save(session, st, held.token, unchanged)
      return result
    } finally {
      // Writes (update, touch) released the lease in their statement and destroy removed the row;
      // anything else, a failure included, releases it here. A failed release just lets it lapse.
      const released = result !== undefined && result.write !== 'none'
      const needed = !released && (result === undefined || result.cookie !== 'clear')
      await giveBack(held, needed).catch(() => {})
    }
  }

  async function save(
    session: Session<T>,
    st: SessionInternals,
    lease: string | undefined,
    unchanged: boolean,
  ): Promise<CommitResult> {
    const state = st.loaded
    const clearIfPresented = (): CommitResult => ({
      cookie: st.presented ? 'clear' : 'keep',
      id: session.id,
      expires: null,
      write: 'none',
    })

    if (st.destroyed) {
      st.loaded = null
      if (!state) return clearIfPresented()
      await destroyKey(state.key, 'destroy', { ref: state.ref })
      return { cookie: 'clear', id: session.id, expires: null, write: 'destroy' }
    }

    // Vouched unchanged: the loaded bytes are the session's bytes (and its ref is the loaded ref).
    const vouched = unchanged && state !== null && !st.regenerate
    const p: Plain = vouched ? { plain: state.plain, payload: null } : encodePlain(session.data)

    if (isEmptyObject(p.plain)) {
      st.loaded = null
      if (!state) return clearIfPresented()
      await destroyKey(state.key, 'emptied', { ref: state.ref })
      return { cookie: 'clear', id: session.id, expires: null, write: 'destroy' }
    }

    const ref = vouched ? state.ref : o.ref(session.data)

    if (!state || st.regenerate) {
      if (state) session.id = generateId(o.idBytes)
      const r = await insertNew(session, p, ref)
      const key = keyOf(session.id)
      if (state) await destroyKey(state.key, 'regenerate', { ref: state.ref })
      await announceRef(key, ref, state?.ref ?? null)
      st.regenerate = false
      st.loaded = { ...freshState(key, p.plain, r), ref }
      return { cookie: 'set', id: session.id, expires: r.expiry, write: 'insert' }
    }

    // How far the expiry would move now (store clock: its time at the read plus our monotonic
    // time since). Moves smaller than touchShare of the ttl are not worth a write of the expiry:
    // an unchanged session is then not touched, and a changed one keeps its expiry.
    const storeNow = state.storeNow.getTime() + (performance.now() - state.readAt)
    let next = storeNow + session.ttl
    if (o.absolute !== undefined) next = Math.min(next, state.created.getTime() + o.absolute)
    const move = next - state.expiry.getTime()
    const small = !st.touch && move < o.touchShare * session.ttl

    if (bytesEqual(p.plain, state.plain) && state.current && ref === state.ref) {
      if (small || move <= 0) {
        return { cookie: 'keep', id: session.id, expires: state.expiry, write: 'none' }
      }
      const ok = await call('touch', () =>
        store.touch({ key: state.key, ttl: session.ttl, maxAge: o.absolute, lease }),
      )
      if (!ok) return gone(session)
      st.touch = false
      state.expiry = new Date(next)
      return { cookie: 'keep', id: session.id, expires: state.expiry, write: 'touch' }
    }

    // A shorter ttl (or absolute cap) pulls the expiry back: that is a move worth writing.
    const keepExpiry = small && move > -touchSlack(session.ttl)
    const result = await update(session, state, p, ref, lease, keepExpiry)
    if (result.cookie === 'clear') st.loaded = null
    return result
  }

  function freshState(key: string, plain: Uint8Array, r: WriteResult & { ok: true }): LoadedState {
    const now = new Date(r.expiry.getTime() - o.idle)
    return {
      key,
      plain,
      version: r.version,
      ref: null,
      created: now,
      expiry: r.expiry,
      storeNow: now,
      readAt: performance.now(),
      current: true,
    }
  }

  const normRef = (ref: string | number): string => {
    const r = typeof ref === 'number' ? String(ref) : ref
    if (typeof r !== 'string' || r.length === 0 || r.length > 255) {
      throw new SessionError(
        'E_INVALID',
        SOURCE,
        'ref must be a non-empty string of at most 255 characters or a number',
      )
    }
    return r
  }

  return {
    store,
    options: o,
    load,
    commit,
    release,
    create: (data?: T) => fresh(false, data),
    async destroy(id, reason = 'destroy') {
      if (!isWellFormedId(id, o.idBytes)) return null
      const key = keyOf(id)
      try {
        return await destroyKey(key, reason)
      } finally {
        // The row and its lease are gone: let the next request of this key in (it finds nothing).
        holding.get(key)?.()
        holding.delete(key)
      }
    },
    findByRef: (ref) => call('findByRef', () => store.findByRef(normRef(ref))),
    async destroyByRef(ref, opts = {}) {
      const r = normRef(ref)
      let gone: SessionRef[]
      if (opts.except === undefined) {
        gone = await call('destroyByRef', () => store.destroyByRef(r))
      } else {
        const keep = opts.except
        const rows = await call('findByRef', () => store.findByRef(r))
        gone = []
        for (const row of rows) {
          if (row.key === keep) continue
          const g = await call('destroy', () => store.destroy(row.key, { ref: row.ref }))
          if (g) gone.push(g)
        }
      }
      for (const g of gone)
        await events.emit('destroy', { key: g.key, ref: g.ref, reason: opts.reason ?? 'ref' })
      return gone
    },
    count: () => call('count', () => store.count()),
    refs: (limit = 1000) => call('refs', () => store.refs(limit)),
    keyOf,
    generateId: () => generateId(o.idBytes),
    isWellFormedId: (id: unknown): id is string => isWellFormedId(id, o.idBytes),
    on: (name, listener) => events.on(name, listener),
    emit: (name, event) => events.emit(name, event),
  }
}
