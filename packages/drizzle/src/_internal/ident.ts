import { createHash } from 'node:crypto'

// Table names reach SQL only through these, so any name (quotes, semicolons) is a literal identifier.
export const quotePg = (name: string): string => `"${name.replace(/"/g, '""')}"`
export const quoteMysql = (name: string): string => `\`${name.replace(/`/g, '``')}\``

const PG_MAX_IDENTIFIER_BYTES = 63

/**
 * PostgreSQL index names share the schema's namespace and are cut at 63 bytes, so two long
 * table names could silently share one index name; a hash of the full name keeps them apart.
 */
export function pgIndexName(table: string, suffix: string): string {
  const plain = `${table}_${suffix}`
  if (Buffer.byteLength(plain, 'utf8') <= PG_MAX_IDENTIFIER_BYTES) return plain
  const hash = createHash('sha256').update(table).digest('hex').slice(0, 8)
  const tail = `_${hash}_${suffix}`
  let head = ''
  for (const ch of table) {
    if (Buffer.byteLength(head + ch + tail, 'utf8') > PG_MAX_IDENTIFIER_BYTES) break
    head += ch
  }
  return head + tail
}
