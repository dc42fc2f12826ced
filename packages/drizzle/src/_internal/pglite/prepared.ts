import { type PGlite, parse, protocol } from '@electric-sql/pglite'
import type { Row } from '../rows.js'

/** Statements prepared at most; past this a statement goes through `query` (parsed each time). */
export const MAX_PREPARED = 256

/** Each PglitePrepared names its statements apart from the others' on the same instance. */
let instances = 0

interface Prepared {
  name: string
  /** The parameter types the server inferred, to serialise values as `query` does. */
  types: number[]
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const p of parts) length += p.byteLength
  const out = new Uint8Array(length)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

/**
 * Runs statements on a PGlite instance the store owns as named prepared statements.
 *
 * `PGlite.query` parses and plans its text on every call, through six calls into the database
 * (parse, describe, bind, describe, execute, sync). Here each text is parsed once, by name, and
 * then each call is one bind, describe, execute and sync, in one message and one call: the plan
 * is PostgreSQL's cached one, as on a server connection with postgres.js. Values are serialised
 * and rows parsed with the instance's own serializers and parsers, so rows come back as `query`
 * returns them.
 *
 * Only for an instance nobody else uses: the calls hold PGlite's query lock (`runExclusive`) but
 * not its transaction lock, so on a shared instance one could land inside someone's transaction.
 */
export class PglitePrepared {
  readonly db: PGlite
  readonly #statements = new Map<string, Prepared>()
  readonly #prefix = `sessile_${instances++}_`
  #next = 0

  constructor(db: PGlite) {
    this.db = db
  }

  query(text: string, params: unknown[]): Promise<Row[]> {
    const known = this.#statements.get(text)
    if (known === undefined && this.#statements.size >= MAX_PREPARED) {
      return this.db.query(text, params).then((r) => r.rows as Row[])
    }
    return this.db.runExclusive(async () => {
      const statement = known ?? (await this.#prepare(text))
      try {
        return await this.#execute(statement, params)
      } catch (error) {
        // 26000: the statement is gone (DEALLOCATE ALL, DISCARD ALL): prepare it again, once.
        if ((error as { code?: unknown }).code !== '26000') throw error
        this.#statements.delete(text)
        return await this.#execute(await this.#prepare(text), params)
      }
    })
  }

  async #prepare(text: string): Promise<Prepared> {
    const name = `${this.#prefix}${this.#next++}`
    const { messages } = await this.db.execProtocol(
      concat([
        protocol.serialize.parse({ name, text }),
        protocol.serialize.describe({ type: 'S', name }),
        protocol.serialize.sync(),
      ]),
    )
    const statement = { name, types: parse.parseDescribeStatementResults(messages) }
    this.#statements.set(text, statement)
    return statement
  }

  async #execute(statement: Prepared, params: unknown[]): Promise<Row[]> {
    const serializers = this.db.serializers
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null
      const serialize = serializers[statement.types[i] as number]
      return serialize ? serialize(value) : String(value)
    })
    const { messages } = await this.db.execProtocol(
      concat([
        protocol.serialize.bind({ statement: statement.name, values }),
        protocol.serialize.describe({ type: 'P' }),
        protocol.serialize.execute({}),
        protocol.serialize.sync(),
      ]),
    )
    return (parse.parseResults(messages, this.db.parsers)[0]?.rows ?? []) as Row[]
  }
}
