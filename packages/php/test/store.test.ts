import { createSessions, isSessionError, type SessionError, type SessionStore } from '@sessile/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PHP_SESSION_TABLE, phpCodec, phpIds } from '../src/index.js'
import { phpMysqlStore } from '../src/mysql.js'
import { phpPgStore } from '../src/pg.js'
import { MYSQL_URL, mysqlRaw, PG_URL, pgRaw, type Raw, reachMysql, reachPg, table } from './_db.js'

const engines = [
  {
    name: 'postgres',
    reach: reachPg,
    raw: async () => pgRaw(),
    store: (o: Record<string, unknown>) => phpPgStore({ url: PG_URL, ...o }),
  },
  {
    name: 'mariadb',
    reach: reachMysql,
    raw: mysqlRaw,
    store: (o: Record<string, unknown>) => phpMysqlStore({ url: MYSQL_URL, ...o }),
  },
]

for (const engine of engines) {
  const reach = await engine.reach()
  describe.skipIf(reach.skip)(`PHP session table store on ${engine.name}`, () => {
    const t = table()
    const decodeErrors: SessionError[] = []
    let store: SessionStore
    let raw: Raw
    const sessions = () =>
      createSessions({
        store,
        ids: phpIds(),
        acceptIds: [],
        ref: (d) => (typeof d.userId === 'string' ? d.userId : null),
      })
    beforeAll(async () => {
      raw = await engine.raw()
      store = await engine.store({
        table: t,
        createTable: true,
        onDecodeError: (e: SessionError) => decodeErrors.push(e),
      })
    })
    afterAll(async () => {
      await store?.close()
      await raw?.drop(t)
      await raw?.close()
    })

    it("writes PHP's rawurlencoded session string and expireref, and reads what PHP wrote", async () => {
      const s = sessions()
      const session = await s.load(null)
      session.data.userId = 'u1'
      session.data.cart = [1, 'two']
      const r = await s.commit(session)
      expect(r.cookie).toBe('set')
      expect(phpIds().test(r.id)).toBe(true)
      const [row] = await raw.query(`SELECT sessdata, expireref FROM "${t}" WHERE sesskey = $1`, [r.id])
      expect(String(row?.sessdata)).toBe(
        encodeURIComponent('userId|s:2:"u1";cart|a:2:{i:0;i:1;i:1;s:3:"two";}').replaceAll("'", '%27'),
      )
      expect(row?.expireref).toBe('u1')
      // Without a ref, the row gets '' as ADOdb writes it when $USERID is unset, and reads as null.
      const anon = await s.load(null)
      anon.data.n = 1
      const a = await s.commit(anon)
      const [anonRow] = await raw.query(`SELECT expireref FROM "${t}" WHERE sesskey = $1`, [a.id])
      expect(anonRow?.expireref).toBe('')
      expect((await store.read(a.id))?.ref).toBeNull()
      // PHP changes it behind Node's back.
      await raw.query(`UPDATE "${t}" SET sessdata = $1 WHERE sesskey = $2`, [
        phpCodec().encode({ userId: 'u1', n: 41 }).toString(),
        r.id,
      ])
      const again = await s.load(r.id)
      expect(again.data).toEqual({ userId: 'u1', n: 41 })
      expect(await s.findByRef('u1')).toHaveLength(1)
    })

    it('detects a concurrent PHP write (the data hash is the version) and merges', async () => {
      const s = sessions()
      const a = await s.load(null)
      a.data.userId = 'u2'
      const { id } = await s.commit(a)
      const mine = await s.load(id)
      await raw.query(`UPDATE "${t}" SET sessdata = $1 WHERE sesskey = $2`, [
        phpCodec().encode({ userId: 'u2', fromPhp: true }).toString(),
        id,
      ])
      mine.data.fromNode = 1
      await s.commit(mine)
      expect((await s.load(id)).data).toEqual({ userId: 'u2', fromPhp: true, fromNode: 1 })
    })

    it('a malformed payload is no session and is reported, never a crash', async () => {
      const s = sessions()
      const id = phpIds().generate()
      await raw.query(
        `INSERT INTO "${t}" (sesskey, expiry, created, modified, expireref, sessdata) VALUES ($1, ${
          engine.name === 'postgres' ? "now() + interval '1 hour'" : 'NOW() + INTERVAL 1 HOUR'
        }, now(), now(), '', $2)`,
        [id, 'user%7Cs%3A9%3A%22ann%22%3B'],
      )
      const before = decodeErrors.length
      const session = await s.load(id)
      expect(session.isNew).toBe(true)
      expect(decodeErrors.length).toBe(before + 1)
      expect(decodeErrors.at(-1)?.code).toBe('E_DECODE')
    })

    it('sweep hands each expired row (ref, key) over once; destroyByRef ends every session of a ref', async () => {
      const s = sessions()
      const ids: string[] = []
      for (const user of ['u3', 'u3', 'u4']) {
        const x = await s.load(null)
        x.data.userId = user
        ids.push((await s.commit(x)).id)
      }
      await raw.query(
        `UPDATE "${t}" SET expiry = created - ${engine.name === 'postgres' ? "interval '1 minute'" : 'INTERVAL 1 MINUTE'} WHERE sesskey = $1`,
        [ids[2]],
      )
      const swept = await Promise.all([store.sweep(100), store.sweep(100), store.sweep(100)])
      expect(swept.flat().filter((r) => r.key === ids[2])).toEqual([{ key: ids[2], ref: 'u4' }])
      const gone = await s.destroyByRef('u3')
      expect(gone.map((g) => g.key).sort()).toEqual([ids[0], ids[1]].sort())
      expect((await s.load(ids[0])).isNew).toBe(true)
    })

    it('refuses filters in the manager with a clear E_INVALID', async () => {
      const s = createSessions({
        store,
        ids: phpIds(),
        acceptIds: [],
        filters: [
          { id: 'x', encode: async (d) => ({ data: d, param: new Uint8Array() }), decode: async (d) => d },
        ],
      })
      const x = await s.load(null)
      x.data.a = 1
      const e = await s.commit(x).catch((err) => err)
      expect(isSessionError(e) && e.message).toMatch(/without filters/)
    })
  })

  describe.skipIf(reach.skip)(`php_session table (column map) on ${engine.name}`, () => {
    const t = table()
    let raw: Raw
    let store: SessionStore
    beforeAll(async () => {
      raw = await engine.raw()
      await raw.query(
        `CREATE TABLE "${t}" (session_id VARCHAR(32) NOT NULL PRIMARY KEY, user_id VARCHAR(16) NOT NULL DEFAULT '', date_created ${
          engine.name === 'postgres' ? 'TIMESTAMP' : 'DATETIME'
        } NOT NULL, last_updated ${engine.name === 'postgres' ? 'TIMESTAMP' : 'DATETIME'} NOT NULL, session_data TEXT)`,
      )
      store = await engine.store({
        table: t,
        columns: PHP_SESSION_TABLE,
        lifetime: '1h',
        codec: { urlencode: false },
      })
    })
    afterAll(async () => {
      await store?.close()
      await raw?.drop(t)
      await raw?.close()
    })
    it('writes session_encode() output with user_id as the ref; expiry is last_updated + lifetime', async () => {
      const s = createSessions({
        store,
        ids: phpIds(),
        acceptIds: [],
        ref: (d) => (d.logon_user_id as string) ?? null,
      })
      const x = await s.load(null)
      x.data.logon_user_id = 'bob'
      x.data.name = 'Bob É'
      const { id } = await s.commit(x)
      const [row] = await raw.query(`SELECT session_data, user_id FROM "${t}" WHERE session_id = $1`, [id])
      expect(row).toEqual({ session_data: 'logon_user_id|s:3:"bob";name|s:6:"Bob É";', user_id: 'bob' })
      const info = (await s.findByRef('bob'))[0]
      expect(info && info.expiry.getTime() - info.modified.getTime()).toBe(3_600_000)
      await raw.query(
        `UPDATE "${t}" SET last_updated = last_updated - ${engine.name === 'postgres' ? "interval '2 hours'" : 'INTERVAL 2 HOUR'}`,
      )
      expect((await s.load(id)).isNew).toBe(true)
      expect(await store.sweep(10)).toEqual([{ key: id, ref: 'bob' }])
    })
  })
}
