import { setTimeout as sleep } from 'node:timers/promises'
import { encodeEnvelope } from '../../envelope.js'
import { SessionError } from '../../errors.js'
import { deserialize, type SessionData } from '../../serialize.js'
import type { LoadedState, Session } from '../../session.js'
import type { CommitResult } from '../../sessions.js'
import { bytesEqual } from '../bytes.js'
import type { Codec, Plain } from './codec.js'
import { stateOf } from './codec.js'
import { announceRef, gone, type ManagerContext, SOURCE } from './context.js'

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
  /** Serialised mode: the lease token the write releases. */
  lease: string | undefined
  keepExpiry: boolean
}

/**
 * Write a loaded session's changes with its version; on a conflict, re-read, merge our changes onto
 * the other writer's and try again (jittered backoff, at most `maxMergeAttempts` times). A row
 * that went away meanwhile is never written again.
 */
export async function updateWithMerge<T extends SessionData>(
  ctx: ManagerContext<T>,
  codec: Codec<T>,
  session: Session<T>,
  state: LoadedState,
  first: UpdateRequest,
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
        lease: first.lease,
        keepExpiry: first.keepExpiry,
      }),
    )
    if (r.ok) {
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
    // Jittered backoff spreads out a crowd of writers on one session, so each round more of
    // them succeed instead of all re-reading the same winner at once.
    await sleep(Math.random() * Math.min(50, 2 ** attempt))
    const row = await call('read', () => store.read(state.key))
    if (!row) return gone(session)
    const theirs = await codec.decode(row)
    if (!theirs) return gone(session)
    base ??= deserialize(state.plain)
    ours ??= session.data
    session.data = merge<T>(base, ours, theirs.data)
    version = row.version
    bytes = codec.encode(session.data)
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
