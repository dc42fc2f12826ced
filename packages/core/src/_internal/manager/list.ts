import type { SessionData } from '../../serialize.js'
import type { ListedSession, SessionPage } from '../../sessions.js'
import type { Codec } from './codec.js'
import type { ManagerContext } from './context.js'

/**
 * A page of live sessions, decoded, sorted by storage key. Rows that do not decode are left out
 * (and reported as `decodeError`), as a load would treat them.
 */
export async function listDecoded<T extends SessionData>(
  ctx: ManagerContext<T>,
  codec: Codec<T>,
  options: { limit?: number; after?: string } = {},
): Promise<SessionPage<T>> {
  const { call, store } = ctx
  const limit = options.limit ?? 500
  const rows = await call('list', () => store.list({ limit, after: options.after }))
  const out: ListedSession<T>[] = []
  for (const row of rows) {
    const decoded = await codec.decode({ ...row, now: row.modified })
    if (!decoded) continue
    const { data: _payload, ...info } = row
    out.push({ ...info, data: decoded.data })
  }
  return { sessions: out, next: rows.length === limit ? rows[rows.length - 1]?.key : undefined }
}
