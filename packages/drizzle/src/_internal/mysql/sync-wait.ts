import type { CorePool } from './hosts.js'

// ER_UNKNOWN_SYSTEM_VARIABLE: a server without wsrep (MySQL): nothing to wait for.
const UNKNOWN_VARIABLE = 1193

/**
 * Set `wsrep_sync_wait` on every connection the pool opens, before its first statement (mysql2
 * queues commands in order, and emits `connection` before it lends the connection out). A Galera
 * node applies other nodes' commits a moment after they were certified; with the wait, a read
 * first catches up with everything committed anywhere before it started, so the next request sees
 * the session the last one wrote through another node. A server without wsrep ignores the
 * variable or does not know it; a connection on which the setting failed otherwise is dropped
 * rather than used without it.
 */
export function syncWaitOnConnect(pool: CorePool, level: number): void {
  pool.on('connection', (conn) => {
    conn.query(`SET SESSION wsrep_sync_wait = ${level}`, undefined, (error) => {
      if (!error || (error as { errno?: unknown }).errno === UNKNOWN_VARIABLE) return
      conn.destroy()
    })
  })
}
