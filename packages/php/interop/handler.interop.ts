import { createSessions, type SessionStore } from '@sessile/core'
import type { HttpAdapterApp } from '@sessile/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PHP_SESSION_TABLE, phpIds } from '../src/index.js'
import { phpMysqlStore } from '../src/mysql.js'
import { phpPgStore } from '../src/pg.js'
import { MYSQL_URL, mysqlRaw, PG_URL, pgRaw, type Raw, reachMysql, reachPg, table } from '../test/_db.js'
import { expressApp, honoApp } from './_apps.js'
import { Browser, type PhpServer, reachPhp, startPhp } from './_php.js'

const php = reachPhp()

const engines = [
  {
    name: 'PostgreSQL',
    reach: reachPg,
    raw: async () => pgRaw(),
    env: { SESS_DSN: 'pgsql:host=127.0.0.1;dbname=test', SESS_USER: 'postgres' },
    store: (o: Record<string, unknown>) => phpPgStore({ url: PG_URL, ...o }),
    time: 'TIMESTAMP',
  },
  {
    name: 'MariaDB',
    reach: reachMysql,
    raw: mysqlRaw,
    env: { SESS_DSN: 'mysql:host=127.0.0.1;dbname=test', SESS_USER: 'root' },
    store: (o: Record<string, unknown>) => phpMysqlStore({ url: MYSQL_URL, ...o }),
    time: 'DATETIME',
  },
]

for (const engine of engines) {
  const reach = await engine.reach()
  describe.skipIf(php.skip || reach.skip)(
    `one login over a php_session table (column map) on ${engine.name}`,
    () => {
      const t = table()
      let raw: Raw
      let store: SessionStore
      let phpServer: PhpServer
      let node: HttpAdapterApp
      let hono: HttpAdapterApp

      beforeAll(async () => {
        raw = await engine.raw()
        await raw.query(
          `CREATE TABLE "${t}" (session_id VARCHAR(32) NOT NULL PRIMARY KEY, user_id VARCHAR(16) NOT NULL DEFAULT '', date_created ${engine.time} NOT NULL, last_updated ${engine.time} NOT NULL, session_data TEXT)`,
        )
        // The handler stores session_encode() output as it is: no rawurlencode layer.
        store = await engine.store({
          table: t,
          columns: PHP_SESSION_TABLE,
          lifetime: '30m',
          codec: { urlencode: false },
        })
        const sessions = createSessions({
          store,
          ids: phpIds(),
          acceptIds: [],
          ref: (d) => (typeof d.logon_user_id === 'string' ? d.logon_user_id : null),
        })
        phpServer = await startPhp({ ...engine.env, SESS_TABLE: t })
        node = await expressApp(sessions)
        hono = await honoApp(sessions)
      })
      afterAll(async () => {
        await phpServer?.stop()
        await node?.close()
        await hono?.close()
        await store?.close()
        await raw?.drop(t)
        await raw?.close()
      })

      const phpGet = (b: Browser, q: string) => b.get(`${phpServer.url}/handler-app.php?${q}`)

      it('the same flows: login on PHP, counter on Node, array on PHP, an object kept, logout both ways', async () => {
        const b = new Browser()
        await phpGet(b, 'a=login&user=alice')
        expect((await b.get(`${node.url}/whoami`)).body).toEqual({
          isNew: false,
          session: { logon_user_id: 'alice', cart: ['apple'] },
        })
        const put = await phpGet(b, 'a=putobj')
        await b.get(`${hono.url}/inc`)
        await phpGet(b, 'a=push&item=plum')
        expect((await b.get(`${node.url}/whoami`)).body.session).toMatchObject({
          logon_user_id: 'alice',
          cart: ['apple', 'plum'],
          counter: 1,
        })
        await b.get(`${node.url}/inc`)
        const check = await phpGet(b, 'a=checkobj')
        expect(check.body).toMatchObject({ isCart: true, serialized: put.body.serialized })
        expect(check.body.session).toEqual({ logon_user_id: 'alice', cart: ['apple', 'plum'], counter: 2 })
        const [row] = await raw.query(`SELECT user_id FROM "${t}" WHERE session_id = $1`, [b.id])
        expect(row?.user_id).toBe('alice')

        const id = b.id
        await b.get(`${node.url}/logout`)
        b.id = id
        expect((await phpGet(b, 'a=show')).body.session).toEqual([])

        const c = new Browser()
        await phpGet(c, 'a=login&user=bob')
        expect((await c.get(`${hono.url}/whoami`)).body.isNew).toBe(false)
        await phpGet(c, 'a=logout')
        expect((await c.get(`${node.url}/whoami`)).body).toEqual({ isNew: true, session: {} })
      })
    },
  )
}
