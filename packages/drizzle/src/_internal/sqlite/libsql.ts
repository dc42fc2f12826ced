import type { Row, SqliteExecutor } from './store.js'

/** The part of a `@libsql/client` `Client` the store uses. */
export interface LibsqlClientLike {
  execute(statement: {
    sql: string
    args: unknown[]
  }): Promise<{ columns: string[]; rows: ArrayLike<unknown>[] }>
  close(): void
  readonly closed: boolean
}

export const isLibsqlClient = (client: unknown): client is LibsqlClientLike =>
  typeof (client as Partial<LibsqlClientLike> | null)?.execute === 'function' &&
  typeof (client as { batch?: unknown } | null)?.batch === 'function'

/** Runs statements through a libSQL client: a local file, `:memory:`, or a `libsql://` server. */
export function libsqlExecutor(client: LibsqlClientLike, owned: boolean): SqliteExecutor {
  return {
    async query(text, params) {
      const result = await client.execute({ sql: text, args: params })
      return result.rows.map((values) => toRow(result.columns, values))
    },
    async first(text, params) {
      const values = (await client.execute({ sql: text, args: params })).rows[0]
      return values === undefined ? undefined : Array.from(values, toValue)
    },
    close: async () => {
      if (owned && !client.closed) client.close()
    },
  }
}

// libSQL hands blobs back as ArrayBuffer; the store's row readers take bytes as Uint8Array.
function toRow(columns: string[], values: ArrayLike<unknown>): Row {
  const row: Row = {}
  for (let i = 0; i < columns.length; i++) {
    row[columns[i] as string] = toValue(values[i])
  }
  return row
}

const toValue = (value: unknown): unknown => (value instanceof ArrayBuffer ? new Uint8Array(value) : value)

/**
 * Opens a libSQL client, loaded only now. A local database gets one connection, so the
 * per-connection settings made after opening (busy timeout, synchronous) hold for every statement.
 */
export async function openLibsql(url: string, authToken: string | undefined): Promise<LibsqlClientLike> {
  const { createClient } = await import('@libsql/client')
  const local = url === ':memory:' || url.startsWith('file:')
  return createClient({
    url,
    ...(authToken === undefined ? {} : { authToken }),
    intMode: 'number',
    ...(local ? { concurrency: 1 } : {}),
  }) as unknown as LibsqlClientLike
}
