import { readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSessions, type SessionStore } from '@sessile/core'
import type { HttpAdapterApp } from '@sessile/core/testing'
import { expiryNotifier } from '@sessile/notify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawurldecode } from '../src/_internal/layers.js'
import { phpIds } from '../src/index.js'
import { phpMysqlStore } from '../src/mysql.js'
import { phpPgStore } from '../src/pg.js'
import { MYSQL_URL, mysqlRaw, PG_URL, pgRaw, type Raw, reachMysql, reachPg, table } from '../test/_db.js'
import { expressApp, honoApp, koaApp } from './_apps.js'
import { Browser, type PhpServer, reachPhp, startPhp } from './_php.js'

const php = reachPhp()

const engines = [
  {
    name: 'PostgreSQL',
    reach: reachPg,
    raw: async () => pgRaw(),
    env: { SESS_DRIVER: 'postgres', SESS_USER: 'postgres', SESS_DB: 'test' },
    store: (o: Record<string, unknown>) => phpPgStore({ url: PG_URL, ...o }),
    past: "now() - interval '1 hour'",
  },
  {
    name: 'MariaDB',
    reach: reachMysql,
    raw: mysqlRaw,
    env: { SESS_DRIVER: 'mysqli', SESS_USER: 'root', SESS_DB: 'test' },
    store: (o: Record<string, unknown>) => phpMysqlStore({ url: MYSQL_URL, ...o }),
    past: 'NOW() - INTERVAL 1 HOUR',
  },
]

for (const engine of engines) {
  const reach = await engine.reach()
  describe.skipIf(php.skip || reach.skip)(
    `one login for PHP (ADOdb sessions2) and Node on ${engine.name}`,
    () => {
      const t = table()
      const log = join(tmpdir(), `${t}.notify.log`)
      let raw: Raw
      let store: SessionStore
      let phpServer: PhpServer
      let node: HttpAdapterApp
      let hono: HttpAdapterApp
      let koa: HttpAdapterApp
      const sessions = () =>
        createSessions({
          store,
          ids: phpIds(),
          acceptIds: [],
          ref: (d) => (typeof d.userId === 'string' ? d.userId : null),
          idleTimeout: '30m',
        })

      beforeAll(async () => {
        writeFileSync(log, '')
        raw = await engine.raw()
        store = await engine.store({ table: t, createTable: true })
        const s = sessions()
        phpServer = await startPhp({ ...engine.env, SESS_TABLE: t, NOTIFY_LOG: log })
        node = await expressApp(s)
        hono = await honoApp(s)
        koa = await koaApp(s)
      })
      afterAll(async () => {
        await phpServer?.stop()
        await node?.close()
        await hono?.close()
        await koa?.close()
        await store?.close()
        await raw?.drop(t)
        await raw?.close()
      })

      const phpGet = (b: Browser, q: string) => b.get(`${phpServer.url}/adodb-app.php?${q}`)

      it('log in on PHP; Express, Hono and Koa see the user; Node counts, PHP shows it; PHP changes an array, Node sees it', async () => {
        const b = new Browser()
        const login = await phpGet(b, 'a=login&user=alice')
        expect(b.id).toMatch(/^[0-9a-v]{32}$/)
        expect(login.body.session).toEqual({ userId: 'alice', cart: ['apple'] })
        const seen = await b.get(`${node.url}/whoami`)
        expect(seen.body).toEqual({ isNew: false, session: { userId: 'alice', cart: ['apple'] } })
        expect((await b.get(`${hono.url}/whoami`)).body.session).toEqual({ userId: 'alice', cart: ['apple'] })
        expect((await b.get(`${koa.url}/whoami`)).body.session).toEqual({ userId: 'alice', cart: ['apple'] })
        await b.get(`${node.url}/inc`)
        await b.get(`${hono.url}/inc`)
        await b.get(`${koa.url}/inc`)
        expect((await phpGet(b, 'a=show')).body.session).toEqual({
          userId: 'alice',
          cart: ['apple'],
          counter: 3,
        })
        await phpGet(b, 'a=push&item=plum')
        expect((await b.get(`${node.url}/whoami`)).body.session).toEqual({
          userId: 'alice',
          cart: ['apple', 'plum'],
          counter: 3,
        })
        const [row] = await raw.query(`SELECT expireref FROM "${t}" WHERE sesskey = $1`, [b.id])
        expect(row?.expireref).toBe('alice')
      })

      it('logout on Node ends the session on PHP; logout on PHP ends it on Node', async () => {
        const b = new Browser()
        await phpGet(b, 'a=login&user=bob')
        const id = b.id as string
        await b.get(`${node.url}/logout`)
        expect(b.id).toBeNull()
        b.id = id
        // PHP's json_encode writes an empty $_SESSION as [].
        expect((await phpGet(b, 'a=show')).body.session).toEqual([])

        const c = new Browser()
        await phpGet(c, 'a=login&user=carol')
        expect((await c.get(`${hono.url}/whoami`)).body.isNew).toBe(false)
        await phpGet(c, 'a=logout')
        const after = await c.get(`${node.url}/whoami`)
        expect(after.body).toEqual({ isNew: true, session: {} })

        const d = new Browser()
        await phpGet(d, 'a=login&user=dora')
        const dId = d.id
        await d.get(`${koa.url}/logout`)
        expect(d.id).toBeNull()
        d.id = dId
        expect((await phpGet(d, 'a=show')).body.session).toEqual([])
      })

      it('a PHP object survives a Node request that changes another field, byte for byte', async () => {
        const b = new Browser()
        await phpGet(b, 'a=login&user=dave')
        const put = await phpGet(b, 'a=putobj')
        const [before] = await raw.query(`SELECT sessdata FROM "${t}" WHERE sesskey = $1`, [b.id])
        const session = (v: unknown) => rawurldecode(Buffer.from(String(v), 'latin1')).toString('latin1')
        const objBytes = session(before?.sessdata).match(/obj\|O:4:"Cart".*\}$/s)?.[0]
        expect(objBytes).toMatch(/^obj\|O:4:"Cart":3:\{/)
        const inc = await b.get(`${node.url}/inc`)
        expect((inc.body.session as { obj: { $php: string; class: string } }).obj).toMatchObject({
          $php: 'object',
          class: 'Cart',
        })
        const [after] = await raw.query(`SELECT sessdata FROM "${t}" WHERE sesskey = $1`, [b.id])
        expect(session(after?.sessdata)).toContain(objBytes)
        const check = await phpGet(b, 'a=checkobj')
        expect(check.body).toMatchObject({ isCart: true, owner: 'dave', serialized: put.body.serialized })
        expect((check.body.session as { counter: number }).counter).toBe(1)
      })

      it("the expiry notifier delivers (expireref, sesskey) of PHP's sessions once; ADOdb's gc notify sees Node's refs", async () => {
        const fromPhp = new Browser()
        await phpGet(fromPhp, 'a=login&user=erin')
        const fromNode = new Browser()
        // Node creates a session and gives it a user.
        const s = sessions()
        const x = await s.load(null)
        x.data.userId = 'frank'
        fromNode.id = (await s.commit(x)).id

        await raw.query(`UPDATE "${t}" SET expiry = ${engine.past} WHERE sesskey = $1`, [fromPhp.id])
        const delivered: [string | null, string][] = []
        const notifiers = [0, 1].map(() =>
          expiryNotifier(s, { interval: false, onExpire: (ref, key) => void delivered.push([ref, key]) }),
        )
        await Promise.all([...notifiers.map((n) => n.sweep()), ...notifiers.map((n) => n.sweep())])
        await Promise.all(notifiers.map((n) => n.stop()))
        expect(delivered.filter(([, key]) => key === fromPhp.id)).toEqual([['erin', fromPhp.id]])

        await raw.query(`UPDATE "${t}" SET expiry = ${engine.past} WHERE sesskey = $1`, [fromNode.id])
        await phpGet(new Browser(), 'a=gc')
        expect(readFileSync(log, 'utf8').split('\n')).toContain(`frank ${fromNode.id}`)
        expect((await s.load(fromNode.id)).isNew).toBe(true)
      })
    },
  )
}
