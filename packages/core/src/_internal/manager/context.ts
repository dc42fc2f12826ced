import { storeError } from '../../errors.js'
import type { Emitter, SessionEvents } from '../../events.js'
import type { ResolvedOptions } from '../../options.js'
import type { SessionData } from '../../serialize.js'
import { kState, type Session } from '../../session.js'
import type { CommitResult } from '../../sessions.js'
import type { DestroyHint, SessionRef, SessionStore } from '../../store.js'

/** The `source` of the manager's errors. */
export const SOURCE = 'sessions'

/** A store call whose failures come back as `E_STORE`. */
export type StoreCall = <R>(action: string, fn: () => Promise<R>) => Promise<R>

/** What the parts of one manager share. */
export interface ManagerContext<T extends SessionData> {
  readonly o: ResolvedOptions<T>
  readonly store: SessionStore
  readonly events: Emitter<SessionEvents>
  readonly call: StoreCall
  /** The storage key of an id under the current secret. */
  keyOf(id: string): string
  /** Every key an id may be stored under while secrets rotate, newest first. */
  keysOf(id: string): string[]
}

/** {@link StoreCall} for `store`. */
export function storeCaller(store: SessionStore): StoreCall {
  // A plain function, not an async one: one promise less per store call on the way that succeeds.
  return <R>(action: string, fn: () => Promise<R>): Promise<R> => {
    let pending: Promise<R>
    try {
      pending = fn()
    } catch (e) {
      pending = Promise.reject(e)
    }
    return pending.catch((e: unknown) => {
      throw storeError(`${SOURCE}:${store.name}`, action, e)
    })
  }
}

/**
 * The row went away while the request ran (logout elsewhere, expiry): never bring it back. The
 * session is over: a later commit of the same object (express-session calls touch after an
 * explicit save) must write nothing, not insert it again under the old id.
 */
export function gone<T extends SessionData>(session: Session<T>): CommitResult {
  const st = session[kState]
  st.loaded = null
  st.destroyed = true
  return { cookie: 'clear', id: session.id, expires: null, write: 'none' }
}

/** The `ref` event when a session gains or changes its ref; undefined (nothing to wait for) otherwise. */
export function announceRef(
  events: Emitter<SessionEvents>,
  key: string,
  ref: string | null,
  previous: string | null,
): Promise<void> | undefined {
  return ref !== null && ref !== previous ? events.emit('ref', { key, ref, previous }) : undefined
}

/** Delete a row and announce it; `known` is the ref read with it, when there was a read. */
export async function destroyKey<T extends SessionData>(
  ctx: ManagerContext<T>,
  key: string,
  reason: SessionEvents['destroy']['reason'],
  known?: DestroyHint,
): Promise<SessionRef | null> {
  const ended = await ctx.call('destroy', () => ctx.store.destroy(key, known))
  if (ended) await ctx.events.emit('destroy', { key: ended.key, ref: ended.ref, reason })
  return ended
}
