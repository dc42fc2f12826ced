/** The promise API of a mysql2 connection or pool, as far as the store uses it. */
export interface MysqlQueryable {
  execute(sql: string, values?: unknown): Promise<[unknown, unknown]>
  query(sql: string, values?: unknown): Promise<[unknown, unknown]>
}

export interface MysqlPoolConnection extends MysqlQueryable {
  release(): void
  destroy?(): void
}

/** How a statement's outcome comes back on the hot path: rows (SELECT) or the OK packet. */
export type MysqlDone = (error: unknown, result?: unknown) => void

export interface MysqlClient extends MysqlQueryable {
  getConnection?(): Promise<MysqlPoolConnection>
  /**
   * One prepared statement, answered through `done`: the store's hot path makes its one promise
   * per call itself, around this, instead of one here and more on top.
   */
  send(sql: string, values: unknown[], done: MysqlDone): void
}

/** What a write statement answers: rows matched and the `LAST_INSERT_ID` it set. */
export interface OkPacket {
  affectedRows: number
  insertId: number | string | bigint
}
