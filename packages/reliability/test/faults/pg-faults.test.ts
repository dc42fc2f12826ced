/**
 * PostgreSQL faults: 32 clients on their own sessions keep counting while the app's pooled
 * connections are terminated again and again, then while the PostgreSQL server itself restarts.
 * The app runs in a child process (app-process.mjs) so a crash shows as a dead process.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { dropPgTables, PG_URL, reachPg, uniqueTable } from '@sessile/drizzle/testing'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { figure } from '../../src/figures.js'
import { type ChildApp, finishLoad, Load, startApp } from './fault-kit.js'

const SECTION = 'Faults'
const CLIENTS = 32
const reach = await reachPg()
const run = promisify(execFile)

/** `SESSILE_PG_RESTART` (a shell command) or the local Debian cluster through pg_ctlcluster. */
function restartCommand(action: 'restart' | 'start'): [string, string[]] {
  const custom = process.env[action === 'restart' ? 'SESSILE_PG_RESTART' : 'SESSILE_PG_START']
  if (custom) return ['sh', ['-c', custom]]
  const version = readdirSync('/etc/postgresql')[0]
  if (!version) throw new Error('no cluster in /etc/postgresql; set SESSILE_PG_RESTART and SESSILE_PG_START')
  return ['pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action]]
}

async function pgAnswers(): Promise<boolean> {
  const sql = postgres(PG_URL, { max: 1, connect_timeout: 2, onnotice: () => {} })
  try {
    await sql`select 1`
    return true
  } catch {
    return false
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {})
  }
}

/** Leave the server running whatever happened: start it if it does not answer, then wait. */
async function ensurePgUp(): Promise<void> {
  for (let i = 0; i < 20; i++) {
    if (await pgAnswers()) return
    await sleep(500)
  }
  const [cmd, args] = restartCommand('start')
  await run(cmd, args).catch((error: unknown) => console.error('[faults] start PostgreSQL:', error))
  for (let i = 0; i < 120; i++) {
    if (await pgAnswers()) return
    await sleep(500)
  }
  throw new Error('PostgreSQL does not answer after start')
}

describe.skipIf(reach.skip)('PostgreSQL: terminated connections and a server restart under load', () => {
  const table = uniqueTable('faults')
  const appName = `sessile-faults-${randomBytes(4).toString('hex')}`
  let app: ChildApp | undefined
  let load: Load | undefined

  beforeAll(async () => {
    app = await startApp({
      FAULT_STORE: 'pg',
      FAULT_URL: PG_URL,
      FAULT_TABLE: table,
      FAULT_APP_NAME: appName,
      FAULT_POOL: '10',
    })
  })

  afterAll(async () => {
    await load?.stop()
    await app?.stop()
    await ensurePgUp()
    await dropPgTables(table)
  })

  it(`${CLIENTS} clients keep their sessions; the app neither crashes nor loses a commit`, async () => {
    if (!app) throw new Error('app not started')
    load = new Load(app.url, CLIENTS, 'pg-user-')
    await load.start()
    await sleep(1000)

    // 1. Terminate every connection of the app's pool, every 500 ms for 5 s.
    let terminated = 0
    const admin = postgres(PG_URL, { max: 1, onnotice: () => {} })
    try {
      for (let round = 0; round < 10; round++) {
        const [row] = await admin<{ n: number }[]>`
          select count(*) filter (where pg_terminate_backend(pid))::int as n
          from pg_stat_activity where application_name = ${appName}`
        terminated += row?.n ?? 0
        await sleep(500)
      }
    } finally {
      await admin.end({ timeout: 1 })
    }
    const okBeforeRestart = load.ok
    await sleep(1000)

    // 2. Restart the server itself; time until a request sent after it is back gets a 200.
    const [cmd, args] = restartCommand('restart')
    const restartAt = performance.now()
    await run(cmd, args, { timeout: 60_000 })
    const backAt = performance.now()
    const firstOk = await Promise.race([load.firstOkAfter(backAt), sleep(30_000).then(() => Number.NaN)])
    await sleep(2000)
    const recover = firstOk - restartAt
    const afterBack = firstOk - backAt

    const label = `PostgreSQL, ${CLIENTS} clients`
    const name = (what: string) => `${what} (${label})`
    figure({
      section: SECTION,
      name: name('connections terminated (10 rounds, 500 ms apart)'),
      value: terminated,
    })
    figure({
      section: SECTION,
      name: name('server restart (pg_ctlcluster restart)'),
      value: Math.round(backAt - restartAt),
      unit: 'ms',
    })
    figure({
      section: SECTION,
      name: name('time to recover from a server restart'),
      value: Math.round(recover),
      unit: 'ms',
      target: '≤ 15,000 ms',
    })
    figure({
      section: SECTION,
      name: name('first 200 after the server is back'),
      value: Math.round(afterBack),
      unit: 'ms',
      target: '≤ 5,000 ms',
    })

    // Stops the load; prints and asserts what every fault run must show.
    await finishLoad(load, app, SECTION, label)

    expect(terminated).toBeGreaterThan(0)
    expect(okBeforeRestart).toBeGreaterThan(0)
    expect(recover).toBeLessThanOrEqual(15_000)
    expect(afterBack).toBeLessThanOrEqual(5_000)
  })
})
