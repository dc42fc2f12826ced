/**
 * The 3-node Galera cluster of scripts/galera-cluster.sh as the cluster suites see it: each node's
 * URL, reachability decided once per file (skip loudly locally, fail under CI=true), admin
 * queries on a node, and killing or bringing back a node through the script.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { dbUnavailable, type Reachability } from '@sessile/core/testing'
import mysql from 'mysql2/promise'

const run = promisify(execFile)

export const GALERA_BASE = Number(process.env.GALERA_PORT_BASE ?? 13306)
export const GALERA_SCRIPT = fileURLToPath(new URL('../../../scripts/galera-cluster.sh', import.meta.url))

/** The SQL URL of node n (1..3). */
export const nodeUrl = (n: number): string => `mysql://root@127.0.0.1:${GALERA_BASE + n - 1}/test`
export const NODES = [1, 2, 3] as const

/** One query on node n through a connection of its own. */
export async function onNode<T = unknown>(n: number, sql: string, values?: unknown[]): Promise<T> {
  const conn = await mysql.createConnection({ uri: nodeUrl(n), connectTimeout: 5000 })
  try {
    const [rows] = await conn.query(sql, values)
    return rows as T
  } finally {
    await conn.end().catch(() => {})
  }
}

/** Whether all three nodes answer and are Synced in a cluster of three. */
export async function reachGalera(): Promise<Reachability> {
  try {
    for (const n of NODES) {
      const rows = await onNode<{ Variable_name: string; Value: string }[]>(
        n,
        "SHOW STATUS WHERE Variable_name IN ('wsrep_local_state_comment', 'wsrep_cluster_size')",
      )
      const status = Object.fromEntries(rows.map((r) => [r.Variable_name, r.Value]))
      if (status.wsrep_local_state_comment !== 'Synced' || status.wsrep_cluster_size !== '3') {
        throw new Error(`node ${n} is ${JSON.stringify(status)}`)
      }
    }
    return dbUnavailable('Galera cluster', null)
  } catch (error) {
    return dbUnavailable('Galera cluster (scripts/galera-cluster.sh start)', error)
  }
}

/** Run a sub-command of the cluster script (kill N, rejoin N, wait-synced, ...). */
export async function cluster(...args: string[]): Promise<string> {
  const { stdout } = await run('bash', [GALERA_SCRIPT, ...args], { timeout: 180_000 })
  return stdout
}

/** Drop test tables through node 1 (DDL replicates to every node). */
export async function dropGaleraTables(...tables: string[]): Promise<void> {
  for (const t of tables) await onNode(1, `DROP TABLE IF EXISTS \`${t.replace(/`/g, '``')}\``)
}

/** A wsrep status counter of node n. */
export async function wsrepStatus(n: number, name: string): Promise<number> {
  const rows = await onNode<{ Value: string }[]>(n, 'SHOW GLOBAL STATUS LIKE ?', [name])
  return Number(rows[0]?.Value ?? Number.NaN)
}
