/**
 * Four app processes on one SQLite file, 32 concurrent requests each: no `SQLITE_BUSY` reaches the
 * app, no field is lost when the processes change different fields of the same sessions, and
 * each expired session is reported by exactly one of the four notifiers.
 *
 * The workers run the BUILT packages (`pnpm build` first; `pnpm test` does). The suite runs a
 * short variant; `pnpm --filter @sessile/reliability sqlite:processes` runs 60 s per driver.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createSessions } from '@sessile/core'
import { sqliteStore } from '@sessile/drizzle/sqlite'
import { afterAll, describe, expect, it } from 'vitest'
import { figure } from '../src/figures.js'

const SECONDS = Number(process.env.SESSILE_SQLITE_SECONDS ?? 6)
const PROCESSES = 4
const CONCURRENCY = 32
const SHARED = 32
const here = fileURLToPath(new URL('.', import.meta.url))
const packageDir = fileURLToPath(new URL('..', import.meta.url))
const built = existsSync(fileURLToPath(new URL('../../drizzle/dist/sqlite.js', import.meta.url)))
const dir = mkdtempSync(join(tmpdir(), 'sessile-sqlite-procs-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface WorkerReport {
  worker: number
  requests: number
  commits: Record<string, number>
  created: string[]
  notified: string[]
  busy: number
  errors: string[]
  unhandled: string[]
}

function runWorker(env: Record<string, string>): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, 'sqlite-processes/worker.mjs')], {
      cwd: packageDir,
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d
    })
    child.stderr.on('data', (d: Buffer) => {
      err += d
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? ''
      if (code !== 0 || !last.startsWith('{')) {
        reject(new Error(`worker ${env.WORKER} exited ${code}: ${err.slice(-2000)}`))
        return
      }
      resolve(JSON.parse(last) as WorkerReport)
    })
  })
}

describe.skipIf(!built)('SQLite: several processes on one file', () => {
  for (const driver of ['better-sqlite3', 'libsql'] as const) {
    it(
      `${driver}: ${PROCESSES} processes x ${CONCURRENCY} requests for ${SECONDS} s`,
      async () => {
        const file = join(dir, `${driver}.db`)
        const table = 'sessions'
        const store = sqliteStore({ path: file, table, driver })
        const sessions = createSessions<Record<string, number>>({ store, idleTimeout: '1h' })
        try {
          const ids: string[] = []
          for (let i = 0; i < SHARED; i++) {
            const s = sessions.create({ seed: i })
            await sessions.commit(s)
            ids.push(s.id)
          }
          const reports = await Promise.all(
            Array.from({ length: PROCESSES }, (_, w) =>
              runWorker({
                SQLITE_FILE: file,
                SQLITE_TABLE: table,
                SQLITE_DRIVER: driver,
                WORKER: String(w),
                SHARED_IDS: JSON.stringify(ids),
                SECONDS: String(SECONDS),
                CONCURRENCY: String(CONCURRENCY),
              }),
            ),
          )

          // Every commit a process saw succeed is in the row: per session, its field counts them all.
          let lost = 0
          let extra = 0
          for (const id of ids) {
            const s = await sessions.load(id)
            expect(s.isNew).toBe(false)
            for (const r of reports) {
              const want = r.commits[id] ?? 0
              const got = s.get(`p${r.worker}`) ?? 0
              if (got < want) lost += want - got
              if (got > want) extra += got - want
            }
          }
          const created = reports.flatMap((r) => r.created)
          const notified = reports.flatMap((r) => r.notified)
          const counts = new Map<string, number>()
          for (const key of notified) counts.set(key, (counts.get(key) ?? 0) + 1)
          const twice = [...counts.values()].filter((n) => n > 1).length
          const missed = created.filter((key) => !counts.has(key)).length
          const stray = [...counts.keys()].filter((key) => !created.includes(key)).length
          const busy = reports.reduce((n, r) => n + r.busy, 0)
          const requests = reports.reduce((n, r) => n + r.requests, 0)
          const errors = reports.flatMap((r) => [...r.errors, ...r.unhandled])

          const name = `${driver}, ${PROCESSES} processes x ${CONCURRENCY} requests, ${SECONDS} s`
          const section = 'SQLite, several processes on one file'
          figure({ section, name: `requests (${name})`, value: requests })
          figure({ section, name: `SQLITE_BUSY seen by the app (${name})`, value: busy, target: '0' })
          figure({ section, name: `fields lost (${name})`, value: lost, target: '0' })
          figure({ section, name: `sessions expired (${name})`, value: created.length })
          figure({
            section,
            name: `expired sessions notified twice or never (${name})`,
            value: twice + missed,
            target: '0',
          })

          expect(errors).toEqual([])
          expect(busy).toBe(0)
          expect(lost).toBe(0)
          expect(extra).toBe(0)
          expect(created.length).toBeGreaterThan(0)
          expect(twice).toBe(0)
          expect(missed).toBe(0)
          expect(stray).toBe(0)
          expect(await store.sweep(1000)).toEqual([])
        } finally {
          await store.close()
        }
      },
      SECONDS * 1000 * 3 + 60_000,
    )
  }
})
