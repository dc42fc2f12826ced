import type { Row } from '../rows.js'
import { toInt, toNullableText } from '../values.js'
import type { MysqlQueryable } from './client.js'
import { type MysqlRetryPolicy, retryMysql } from './retry.js'
import type { Statement } from './sql.js'

// Room for the key, ref and the rest of the execute packet next to the payload.
const PACKET_OVERHEAD = 16 * 1024

/** What start-up learns of the server. */
export interface ServerTraits {
  /** The largest payload max_allowed_packet can carry; undefined when the server did not say. */
  maxDataBytes: number | undefined
  /** MariaDB has DELETE ... RETURNING (one round trip per destroy); MySQL 8 does not. */
  returning: boolean
}

/**
 * Asks the server its packet limit and version; null when it hides them (keep what we had). The
 * question goes through the store's retries: the first node of several may be down at start-up.
 */
export async function probeServer(
  client: MysqlQueryable,
  probe: Statement,
  policy: MysqlRetryPolicy,
): Promise<ServerTraits | null> {
  try {
    const [rows] = await retryMysql(policy, () => client.execute(probe.text))
    const row = (rows as Row[])[0]
    const p = toInt(row?.p)
    return {
      maxDataBytes: Number.isFinite(p) && p > PACKET_OVERHEAD ? p - PACKET_OVERHEAD : undefined,
      returning: /mariadb/i.test(toNullableText(row?.v) ?? ''),
    }
  } catch {
    return null
  }
}
