/**
 * A statement that PostgreSQL (or a PostgreSQL-wire database such as CockroachDB) rolls back with
 * serialization_failure (40001) or deadlock_detected (40P01) is run again; other errors are not.
 * The failures are made on the real server by a trigger that raises them while a sequence (which
 * a rollback does not reset) is below a bound.
 */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgStore } from '../src/pg.js'
import { PG_URL, uniqueTable } from './_helpers/env.js'
import { dropPgTables, reachPg } from './_helpers/reach.js'

const reach = await reachPg()

describe.skipIf(reach.skip)('postgres store: statements rolled back by a conflict are retried', () => {
  const table = uniqueTable('conflict')
  const seq = `${table}_fail`
  const admin = postgres(PG_URL, { max: 1, onnotice: () => {} })
  const store = pgStore({ url: PG_URL, table, max: 2 })
  const data = new TextEncoder().encode('{"n":1}')

  beforeAll(async () => {
    await store.ensureSchema()
  })

  afterAll(async () => {
    await store.close()
    await admin.unsafe(`drop sequence if exists ${seq}`)
    await admin.end({ timeout: 1 })
    await dropPgTables(table)
  })

  /** The next `failures` updates of the table fail with SQLSTATE `code`; returns how many ran. */
  async function failUpdates(code: string, failures: number): Promise<() => Promise<number>> {
    await admin.unsafe(`drop trigger if exists fail_update on ${table}`)
    await admin.unsafe(`drop sequence if exists ${seq}`)
    await admin.unsafe(`create sequence ${seq}`)
    await admin.unsafe(`
      create or replace function ${table}_fail() returns trigger language plpgsql as $$
      begin
        if nextval('${seq}') <= ${failures} then
          raise exception 'made to fail' using errcode = '${code}';
        end if;
        return new;
      end $$`)
    await admin.unsafe(
      `create trigger fail_update before update on ${table} for each row execute function ${table}_fail()`,
    )
    return async () => {
      const [row] = await admin.unsafe<{ last_value: string; is_called: boolean }[]>(
        `select last_value, is_called from ${seq}`,
      )
      return row?.is_called ? Number(row.last_value) : 0
    }
  }

  it.each([
    ['40001', 'serialization_failure'],
    ['40P01', 'deadlock_detected'],
  ])('%s (%s): the update is run again and lands once', async (code) => {
    const key = `k-${code}`.padEnd(43, 'x')
    const first = await store.write({ key, data, ref: 'ann', mode: 'insert', ttl: 60_000 })
    expect(first.ok).toBe(true)
    const runs = await failUpdates(code, 2)
    const r = await store.write({ key, data, ref: 'ann', mode: 'update', ttl: 60_000, version: 1 })
    expect(r).toMatchObject({ ok: true, version: 2 })
    expect(await runs()).toBe(3)
    expect((await store.read(key))?.version).toBe(2)
  })

  it('any other error is not retried', async () => {
    const key = 'k-other'.padEnd(43, 'x')
    await store.write({ key, data, ref: 'ann', mode: 'insert', ttl: 60_000 })
    const runs = await failUpdates('22023', 1)
    const error = await store
      .write({ key, data, ref: 'ann', mode: 'update', ttl: 60_000, version: 1 })
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'E_STORE' })
    expect(await runs()).toBe(1)
    expect((await store.read(key))?.version).toBe(1)
  })
})
