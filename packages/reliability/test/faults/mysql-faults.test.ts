/**
 * MariaDB/MySQL faults: 32 clients on their own sessions keep counting while every connection of
 * the app is killed (KILL CONNECTION) again and again. The app connects as a user of its own
 * (sessile_faults), so its connections are found in the processlist by user and nothing else is
 * touched. The server is not restarted.
 */

import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { dropMysqlTables, MYSQL_URL, reachMysql, uniqueTable } from '@sessile/drizzle/testing'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { figure } from '../../src/figures.js'
import { type ChildApp, finishLoad, Load, startApp } from './fault-kit.js'

const SECTION = 'Faults'
const CLIENTS = 32
const USER = 'sessile_faults'
const PASSWORD = 'sessile-faults-only-on-test'
const HOSTS = ['%', '127.0.0.1', 'localhost']
const reach = await reachMysql()

describe.skipIf(reach.skip)('MariaDB: killed connections under load', () => {
  const table = uniqueTable('faults')
  let admin: mysql.Connection | undefined
  let app: ChildApp | undefined
  let load: Load | undefined

  beforeAll(async () => {
    admin = await mysql.createConnection({ uri: MYSQL_URL })
    const db = new URL(MYSQL_URL).pathname.slice(1) || 'test'
    for (const host of HOSTS) {
      await admin.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [USER, host, PASSWORD])
      await admin.query(`GRANT ALL ON \`${db.replace(/`/g, '``')}\`.* TO ?@?`, [USER, host])
    }
    const url = new URL(MYSQL_URL)
    url.username = USER
    url.password = PASSWORD
    app = await startApp({ FAULT_STORE: 'mysql', FAULT_URL: url.href, FAULT_TABLE: table, FAULT_POOL: '10' })
  })

  afterAll(async () => {
    await load?.stop()
    await app?.stop()
    await dropMysqlTables(table)
    if (admin) {
      for (const host of HOSTS) await admin.query('DROP USER IF EXISTS ?@?', [USER, host])
      await admin.end()
    }
  })

  it(`${CLIENTS} clients keep their sessions; the app neither crashes nor loses a commit`, async () => {
    if (!app || !admin) throw new Error('app not started')
    load = new Load(app.url, CLIENTS, 'mysql-user-')
    await load.start()
    await sleep(1000)

    // Kill every connection of the app's user, every 500 ms for 5 s.
    let killed = 0
    let lastKill = 0
    for (let round = 0; round < 10; round++) {
      const [rows] = await admin.query<mysql.RowDataPacket[]>(
        'SELECT id FROM information_schema.processlist WHERE user = ?',
        [USER],
      )
      for (const row of rows) {
        try {
          await admin.query(`KILL CONNECTION ${Number(row.id)}`)
          killed++
        } catch {
          // Gone meanwhile (the pool closed it): nothing to kill.
        }
      }
      lastKill = performance.now()
      await sleep(500)
    }
    const firstOk = await Promise.race([load.firstOkAfter(lastKill), sleep(30_000).then(() => Number.NaN)])
    const recover = firstOk - lastKill
    await sleep(1500)
    const label = `MariaDB, ${CLIENTS} clients`
    const name = (what: string) => `${what} (${label})`
    figure({ section: SECTION, name: name('connections killed (10 rounds, 500 ms apart)'), value: killed })
    figure({
      section: SECTION,
      name: name('time to recover after the last kill'),
      value: Math.round(recover),
      unit: 'ms',
      target: '≤ 5,000 ms',
    })

    // Stops the load; prints and asserts what every fault run must show.
    await finishLoad(load, app, SECTION, label)

    expect(killed).toBeGreaterThan(0)
    expect(recover).toBeLessThanOrEqual(5_000)
  })
})
