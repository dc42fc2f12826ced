import { setTimeout as sleep } from 'node:timers/promises'
import { encodeEnvelope } from '../../envelope.js'
import { isSessionError, SessionError } from '../../errors.js'
import { deserialize, type SessionData } from '../../serialize.js'
import type { HeldLease, LoadedState, Session } from '../../session.js'
import type { CommitResult } from '../../sessions.js'
import { bytesEqual } from '../bytes.js'
import type { Codec, Plain } from './codec.js'
import { stateOf } from './codec.js'
import { announceRef, gone, type ManagerContext, SOURCE } from './context.js'
import type { HotKeys } from './hot.js'
import type { Leases } from './leases.js'

/**
 * Apply our changes (ours vs base) on top of what a concurrent writer stored (theirs). Fields
 * only we changed and fields only they changed both survive; when both changed the same field,
 * the later save wins.
 */
export function merge<T extends SessionData>(base: SessionData, ours: SessionData, theirs: SessionData): T {
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

/** How one versioned update is to be written. */
export interface UpdateRequest {
  bytes: Plain
  ref: string | null
  /** The lease token the write releases (serialised mode, a hot session). */
  lease: string | undefined
  /** The session holds a lease, released by this write or kept for a hand-off: take no other. */
  holding: boolean
  keepExpiry: boolean
}

/** Hot sessions (default mode): which keys are hot, and the leases a conflicting save takes. */
export interface HotSaves<T extends SessionData> {
  keys: HotKeys
  leases: Leases<T>
}

/**
 * Write a loaded session's changes with its version; on a conflict, re-read, merge our changes onto
 * the other writer's and try again (jittered backoff, at most `maxMergeAttempts` times). A row
 * that went away meanwhile is never written again.
 *
 * With hot sessions on, a conflict marks the session hot and the retry first takes the row's
 * lease (after the requests of this process already queued for it): the re-read and the write
 * then happen under the lease, so the retry succeeds unless a writer that takes no lease (another
 * process that has not seen the contention yet) changes the row in between.
 */
export async function updateWithMerge<T extends SessionData>(
  ctx: ManagerContext<T>,
  codec: Codec<T>,
  session: Session<T>,
  state: LoadedState,
  first: UpdateRequest,
  hot: HotSaves<T> | null,
): Promise<CommitResult> {
  const { o, store, call, events } = ctx
  // The three-way merge always compares the request's own data (ours) with what it loaded
  // (base): after a first merge session.data also holds the other writers' values of that
  // moment, which a second merge would otherwise take for our changes and write back stale.
  let base: SessionData | undefined
  let ours: SessionData | undefined
  let version = state.version
  let bytes = first.bytes
  let ref = first.ref
  let lease = first.lease
  // The lease a conflicting save took, given back whatever happens (an update released it).
  let taken: HeldLease | undefined
  let released = false
  try {
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
          keepExpiry: first.keepExpiry,
        }),
      )
      if (r.ok) {
        // An update given a lease token releases that lease in the same statement.
        if (taken) released = true
        const announced = announceRef(events, state.key, ref, state.ref)
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
      // The other writer's session: its data, and the row's state it came from.
      let theirs: { data: T; state: LoadedState } | null = null
      if (hot) {
        hot.keys.mark(ctx.keyOf(session.id))
        if (lease === undefined && !first.holding) {
          const got = await hot.leases.acquire(state.key).catch((e: unknown) => {
            // The wait ran out: retry without the lease, as a cold save would.
            if (isSessionError(e) && e.code === 'E_BUSY') return undefined
            throw e
          })
          if (got === null) return gone(session)
          if (got) {
            taken = got.held
            lease = got.held.token
            theirs = { data: got.data, state: got.state }
          }
        }
      }
      if (!theirs) {
        // Jittered backoff spreads out a crowd of writers on one session, so each round more of
        // them succeed instead of all re-reading the same winner at once.
        await sleep(Math.random() * Math.min(50, 2 ** attempt))
        const row = await call('read', () => store.read(state.key))
        if (!row) return gone(session)
        const decoded = await codec.decode(row)
        if (!decoded) return gone(session)
        theirs = { data: decoded.data, state: stateOf(row, decoded.plain, decoded.current) }
      }
      base ??= deserialize(state.plain)
      ours ??= session.data
      session.data = merge<T>(base, ours, theirs.data)
      version = theirs.state.version
      bytes = codec.encode(session.data)
      if (bytesEqual(bytes.plain, theirs.state.plain)) {
        Object.assign(state, theirs.state)
        return { cookie: 'keep', id: session.id, expires: state.expiry, write: 'none' }
      }
    }
    throw new SessionError(
      'E_CONFLICT',
      SOURCE,
      `gave up saving after ${o.maxMergeAttempts} attempts: the session is being changed by many requests at once`,
    )
  } finally {
    if (taken && hot) await hot.leases.giveBack(taken, !released).catch(() => {})
  }
}
