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

/** "Log this user out everywhere", but for the session with storage key `except`. */
export async function destroyByRef<T extends SessionData>(
  ctx: ManagerContext<T>,
  ref: string | number,
  opts: { except?: string; reason?: 'ref' | 'evict' } = {},
): Promise<SessionRef[]> {
  const { call, store, events } = ctx
  const r = normRef(ref)
  let ended: SessionRef[]
  if (opts.except === undefined) {
    ended = await call('destroyByRef', () => store.destroyByRef(r))
  } else {
    const keep = opts.except
    const rows = await call('findByRef', () => store.findByRef(r))
    ended = []
    for (const row of rows) {
      if (row.key === keep) continue
      const g = await call('destroy', () => store.destroy(row.key, { ref: row.ref }))
      if (g) ended.push(g)
    }
  }
  for (const g of ended)
    await events.emit('destroy', { key: g.key, ref: g.ref, reason: opts.reason ?? 'ref' })
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
