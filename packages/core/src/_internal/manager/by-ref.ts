import { SessionError } from '../../errors.js'
import type { SessionData } from '../../serialize.js'
import type { SessionInfo, SessionRef } from '../../store.js'
import { destroyKey, type ManagerContext, SOURCE } from './context.js'

/** A ref as the store keeps it, or `E_INVALID`. */
export function normRef(ref: string | number): string {
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

/** Live sessions of a ref, oldest first. */
export function findByRef<T extends SessionData>(
  ctx: ManagerContext<T>,
  ref: string | number,
): Promise<SessionInfo[]> {
  return ctx.call('findByRef', () => ctx.store.findByRef(normRef(ref)))
}

/** At most this many passes over a ref's rows; each pass after the first finds only racing inserts. */
const MAX_PASSES = 4

/**
 * "Log this user out everywhere", but for the session with storage key `except`.
 *
 * One pass is not enough: a regenerate inserts the new row, then deletes the old one. A pass whose
 * snapshot predates that insert, and that then waits on the regenerate's delete of the old row,
 * finds the old row gone and never saw the new one (PostgreSQL, read committed). Passes repeat
 * until one ends nothing: a pass that starts after an earlier pass ended sees every row inserted
 * before the old row could be deleted, so no regenerate racing the logout outlives it.
 */
export async function destroyByRef<T extends SessionData>(
  ctx: ManagerContext<T>,
  ref: string | number,
  opts: { except?: string; reason?: 'ref' | 'evict' } = {},
): Promise<SessionRef[]> {
  const r = normRef(ref)
  const ended: SessionRef[] = []
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const now = await destroyPass(ctx, r, opts.except)
    for (const g of now) {
      ended.push(g)
      await ctx.events.emit('destroy', { key: g.key, ref: g.ref, reason: opts.reason ?? 'ref' })
    }
    if (now.length === 0 && pass > 0) break
  }
  return ended
}

async function destroyPass<T extends SessionData>(
  ctx: ManagerContext<T>,
  ref: string,
  except: string | undefined,
): Promise<SessionRef[]> {
  const { call, store } = ctx
  if (except === undefined) return call('destroyByRef', () => store.destroyByRef(ref))
  const rows = await call('findByRef', () => store.findByRef(ref))
  const ended: SessionRef[] = []
  for (const row of rows) {
    if (row.key === except) continue
    const g = await call('destroy', () => store.destroy(row.key, { ref: row.ref }))
    if (g) ended.push(g)
  }
  return ended
}

/** Delete the session of `id` under every key it may be stored under; `ended(key)` after each. */
export async function destroyById<T extends SessionData>(
  ctx: ManagerContext<T>,
  id: string,
  reason: 'destroy' | 'evict',
  ended: (key: string) => void,
): Promise<SessionRef | null> {
  let first: SessionRef | null = null
  for (const key of ctx.keysOf(id)) {
    try {
      first ??= await destroyKey(ctx, key, reason)
    } finally {
      ended(key)
    }
  }
  return first
}
