import { createSessions, type SessionStore } from '@sessile/core'
import type { HttpAdapterApp } from '@sessile/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { phpIds } from '../src/index.js'
import { phpMysqlStore } from '../src/mysql.js'
import { MYSQL_URL, mysqlRaw, type Raw, reachMysql, table } from '../test/_db.js'
import { expressApp } from './_apps.js'
import { Browser, type PhpServer, reachPhp, startPhp } from './_php.js'

const php = reachPhp()
const reach = await reachMysql()

// ADOdb's gzip filter stores gzcompress() output, which only a binary column holds: LONGBLOB here.
describe.skipIf(php.skip || reach.skip)("ADOdb's gzip filter on MariaDB (LONGBLOB sessdata)", () => {
  const t = table()
  let raw: Raw
  let store: SessionStore
  let phpServer: PhpServer
  let node: HttpAdapterApp

  beforeAll(async () => {
    raw = await mysqlRaw()
    await raw.query(
      `CREATE TABLE "${t}" (sesskey VARCHAR(64) NOT NULL PRIMARY KEY, expiry DATETIME NOT NULL, created DATETIME NOT NULL, modified DATETIME NOT NULL, expireref VARCHAR(250), sessdata LONGBLOB NOT NULL, INDEX (expiry), INDEX (expireref))`,
    )
    store = await phpMysqlStore({ url: MYSQL_URL, table: t, codec: { gzip: true } })
    const sessions = createSessions({
      store,
      ids: phpIds(),
      acceptIds: [],
      ref: (d) => (typeof d.userId === 'string' ? d.userId : null),
    })
    phpServer = await startPhp({
      SESS_DRIVER: 'mysqli',
      SESS_USER: 'root',
      SESS_DB: 'test',
      SESS_TABLE: t,
      SESS_GZIP: '1',
      NOTIFY_LOG: '/dev/null',
    })
    node = await expressApp(sessions)
  })
  afterAll(async () => {
    await phpServer?.stop()
    await node?.close()
    await store?.close()
    await raw?.drop(t)
    await raw?.close()
  })

  it('Node reads a session PHP wrote compressed, and PHP reads what Node wrote compressed', async () => {
    const b = new Browser()
    await b.get(`${phpServer.url}/adodb-app.php?a=login&user=gina`)
    const [row] = await raw.query(`SELECT sessdata FROM "${t}" WHERE sesskey = ?`, [b.id])
    const stored = row?.sessdata as Buffer
    expect(stored[0]).toBe(0x78)
    expect(stored.includes(Buffer.from('gina'))).toBe(false)
    expect((await b.get(`${node.url}/whoami`)).body.session).toEqual({ userId: 'gina', cart: ['apple'] })
    await b.get(`${node.url}/inc`)
    const [after] = await raw.query(`SELECT sessdata FROM "${t}" WHERE sesskey = ?`, [b.id])
    expect(Buffer.from(after?.sessdata as Buffer)[0]).toBe(0x78)
    const shown = await b.get(`${phpServer.url}/adodb-app.php?a=show`)
    expect(shown.body.session).toEqual({ userId: 'gina', cart: ['apple'], counter: 1 })
  })
})
