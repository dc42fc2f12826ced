/**
 * The session manager: the story of a request, load → (the app changes the session) → commit.
 * The parts live beside it in `_internal/manager/`: the payload codec, the merge of concurrent
 * writes, and serialised mode's leases.
 * Over 300 lines on purpose: load and commit read as one story, top to bottom; each step they
 * call is a short named function here or a module beside it.
 */
import { performance } from 'node:perf_hooks'
import { bytesEqual } from './_internal/bytes.js'
import { destroyById, destroyByRef, findByRef } from './_internal/manager/by-ref.js'
import {
  Codec,
  type Decoded,
  insertedState,
  isEmptyObject,
  type Plain,
  stateOf,
  storeNowOf,
} from './_internal/manager/codec.js'
import {
  announceRef,
  destroyKey,
  gone,
  type ManagerContext,
  SOURCE,
  storeCaller,
} from './_internal/manager/context.js'
import { HotKeys } from './_internal/manager/hot.js'
import { Leases } from './_internal/manager/leases.js'
import { listDecoded } from './_internal/manager/list.js'
import { type HotSaves, updateWithMerge } from './_internal/manager/merge.js'
import { builtinDecoders } from './_internal/zlib.js'
import { encodeEnvelope } from './envelope.js'
import { isSessionError, SessionError } from './errors.js'
import { Emitter, type SessionEvents } from './events.js'
import { storageKey } from './ids.js'
import { resolveOptions, type SessionsOptions } from './options.js'
import type { SessionData } from './serialize.js'
import { kState, Session, type SessionInternals } from './session.js'
import type { CommitOptions, CommitResult, Sessions } from './sessions.js'
import { type ReadResult, touchSlack, type WriteResult } from './store.js'

export type { CommitOptions, CommitResult, ListedSession, SessionPage, Sessions } from './sessions.js'

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
  const call = storeCaller(store)
  const currentSecret = o.secrets[0]
  const keyOf = (id: string): string => storageKey(id, currentSecret)
  // During a secret rotation a session may sit under the key of any configured secret.
  const keysOf = (id: string): string[] =>
    o.secrets.length <= 1 ? [keyOf(id)] : o.secrets.map((s) => storageKey(id, s))
  const ctx: ManagerContext<T> = { o, store, events, call, keyOf, keysOf }
  const codec = new Codec(o, events)
  // Serialised mode leases every session; otherwise, with hot sessions on, only the hot ones.
  const leases = o.serialize
    ? new Leases(ctx, codec, o.serialize)
    : o.hot
      ? new Leases(ctx, codec, { lease: o.hot.lease, wait: o.hot.wait })
      : null
  const hotKeys = o.hot ? new HotKeys(o.hot.cooldown) : null
  const hot: HotSaves<T> | null = hotKeys && leases ? { keys: hotKeys, leases } : null

  // Ids longer than any format allows are refused before a pattern runs over them.
  const wellFormed = (id: unknown): id is string =>
    typeof id === 'string' && id.length <= 512 && o.acceptIds.some((f) => f.test(id))

  function fresh(presented: boolean, data?: T): Session<T> {
    return new Session<T>(o.ids.generate(), data ?? ({} as T), o.idle, {
      loaded: null,
      presented,
      destroyed: false,
      regenerate: false,
      touch: false,
    })
  }

  // ---- load ----

  function load(id: string | null | undefined): Promise<Session<T>> {
    const presented = typeof id === 'string' && id.length > 0
    if (!wellFormed(id)) return Promise.resolve(fresh(presented))
    if (o.serialize && leases) return leases.load(id).then((s) => s ?? fresh(true))
    if (!hot?.keys.any) return readPlain(id)
    // The key is hashed once, for the hot check and the read.
    const key = keyOf(id)
    return hot.keys.has(key) ? loadHot(id, key, hot) : readPlain(id, key)
  }

  /** `key`: the id's key under the current secret, when already known. */
  function readPlain(id: string, key?: string): Promise<Session<T>> {
    return readKey(id, key).then((row) => (row ? loaded(id, row) : fresh(true)))
  }

  /** A hot session: loaded under its lease, so its requests take turns instead of conflicting. */
  async function loadHot(id: string, key: string, h: HotSaves<T>): Promise<Session<T>> {
    let session: Session<T> | null
    try {
      session = await h.leases.load(id)
    } catch (e) {
      // The wait ran out: a lease-free read, as for a cold session (its save still merges).
      if (isSessionError(e) && e.code === 'E_BUSY') return readPlain(id, key)
      throw e
    }
    if (!session) return fresh(true)
    // Waiting for the lease is contention too: it keeps the session hot.
    if (session[kState].lease?.waited) h.keys.mark(key)
    return session
  }

  function readKey(id: string, key?: string): Promise<ReadResult | null> {
    if (o.secrets.length <= 1) return call('read', () => store.read(key ?? keyOf(id)))
    return readRotated(id)
  }

  /** Secret rotation: the key under each secret in turn, newest first. */
  async function readRotated(id: string): Promise<ReadResult | null> {
    for (const key of keysOf(id)) {
      const row = await call('read', () => store.read(key))
      if (row) return row
    }
    return null
  }

  function loaded(id: string, row: ReadResult): Session<T> | Promise<Session<T>> {
    const decoded = codec.decodePlain(row)
    if (decoded) return loadedSession(id, row, decoded)
    return codec.decodeRow(row).then((d) => (d ? loadedSession(id, row, d) : fresh(true)))
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

  // ---- commit ----

  function internals(session: Session<T>): SessionInternals {
    if (!(session instanceof Session) || !session[kState]) {
      throw new SessionError('E_INVALID', SOURCE, 'commit needs a session made by this manager')
    }
    return session[kState]
  }

  async function commit(session: Session<T>, options?: CommitOptions): Promise<CommitResult> {
    const st = internals(session)
    const unchanged = options?.unchanged === true
    const held = st.lease
    if (!held || !leases) return save(session, st, undefined, false, unchanged)
    st.lease = null
    // Another request of this process waits for the session: the write keeps the lease for it.
    const handOff = leases.mayHandOff(held)
    const sent = performance.now()
    let result: CommitResult | undefined
    try {
      result = await save(session, st, handOff ? undefined : held.token, true, unchanged)
      return result
    } finally {
      const w = result?.write
      const wrote = w === 'update' || w === 'touch'
      if (handOff && st.loaded && (wrote || w === 'none')) {
        // A write's state stands since it was sent; an unwritten one since it was read.
        await leases.handOff(held, st.loaded, wrote ? sent : held.validAt).catch(() => {})
      } else {
        // Writes (update, touch) released the lease in their statement unless it was kept for a
        // hand-off, and destroy or regenerate removed the row; anything else, a failure
        // included, releases it here. A failed release just lets it lapse.
        const released = result !== undefined && w !== 'none' && !(handOff && wrote)
        const needed = !released && (result === undefined || result.cookie !== 'clear')
        await leases.giveBack(held, needed).catch(() => {})
      }
    }
  }

  async function release(session: Session<T>): Promise<void> {
    const st = internals(session)
    const held = st.lease
    if (!held || !leases) return
    st.lease = null
    await leases.giveBack(held, true)
  }

  /** `lease`: the token a write releases; `holding`: the session holds a lease (released or kept). */
  async function save(
    session: Session<T>,
    st: SessionInternals,
    lease: string | undefined,
    holding: boolean,
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
      await destroyKey(ctx, state.key, 'destroy', { ref: state.ref })
      return { cookie: 'clear', id: session.id, expires: null, write: 'destroy' }
    }

    // Vouched unchanged: the loaded bytes are the session's bytes (and its ref is the loaded ref).
    const vouched = unchanged && state !== null && !st.regenerate
    const p: Plain = vouched ? { plain: state.plain, payload: null } : codec.encode(session.data)

    if (isEmptyObject(p.plain)) {
      st.loaded = null
      if (!state) return clearIfPresented()
      await destroyKey(ctx, state.key, 'emptied', { ref: state.ref })
      return { cookie: 'clear', id: session.id, expires: null, write: 'destroy' }
    }

    const ref = vouched ? state.ref : o.ref(session.data)

    if (!state || st.regenerate) {
      if (state) session.id = o.ids.generate()
      const r = await insertNew(session, p, ref)
      const key = keyOf(session.id)
      // The new row first, then the old one: only a delete that still finds the old row lets the
      // new id live. A logout or eject since the load (before, or while, this runs) took the old
      // row, or both, so the new row is taken back and nothing outlives the logout.
      if (state && !(await destroyKey(ctx, state.key, 'regenerate', { ref: state.ref }))) {
        await call('destroy', () => store.destroy(key))
        return gone(session)
      }
      await announceRef(events, key, ref, state?.ref ?? null)
      st.regenerate = false
      st.loaded = insertedState(key, p.plain, ref, r, o.idle)
      return { cookie: 'set', id: session.id, expires: r.expiry, write: 'insert' }
    }

    // How far the expiry would move now (store clock: its time at the read plus our monotonic
    // time since). Moves smaller than touchShare of the ttl are not worth a write of the expiry:
    // an unchanged session is then not touched, and a changed one keeps its expiry.
    let next = storeNowOf(state) + session.ttl
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
    const result = await updateWithMerge(
      ctx,
      codec,
      session,
      state,
      { bytes: p, ref, lease, holding, keepExpiry },
      hot,
    )
    if (result.cookie === 'clear') st.loaded = null
    return result
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
      session.id = o.ids.generate()
    }
    throw new SessionError('E_CONFLICT', SOURCE, 'could not find a free session id after 3 attempts')
  }

  return {
    store,
    options: o,
    load,
    commit,
    release,
    create: (data?: T) => fresh(false, data),
    destroy: (id, reason = 'destroy') =>
      wellFormed(id) ? destroyById(ctx, id, reason, (key) => leases?.ended(key)) : Promise.resolve(null),
    findByRef: (ref) => findByRef(ctx, ref),
    destroyByRef: (ref, opts) => destroyByRef(ctx, ref, opts),
    count: () => call('count', () => store.count()),
    list: (opts) => listDecoded(ctx, codec, opts),
    refs: (limit = 1000) => call('refs', () => store.refs(limit)),
    keyOf,
    keysOf: (id: string) => (wellFormed(id) ? keysOf(id) : []),
    generateId: () => o.ids.generate(),
    isWellFormedId: wellFormed,
    on: (name, listener) => events.on(name, listener),
    emit: (name, event) => events.emit(name, event),
  }
}
