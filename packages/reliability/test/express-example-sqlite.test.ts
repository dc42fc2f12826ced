/**
 * The express example (examples/express/server.mjs) run as a user would, with
 * `DATABASE_URL=sqlite:./data/sessions.db` in an empty directory: the directory is created, the
 * counter counts, login and the device list work, and the sessions are in the file.
 * Runs the BUILT packages (`pnpm build` first; `pnpm test` does).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '@sessile/core/testing'
import { sqliteStore } from '@sessile/drizzle/sqlite'
import { afterAll, describe, expect, it } from 'vitest'

const server = fileURLToPath(new URL('../../../examples/express/server.mjs', import.meta.url))
const built = existsSync(fileURLToPath(new URL('../../drizzle/dist/sqlite.js', import.meta.url)))
const dir = mkdtempSync(join(tmpdir(), 'sessile-example-'))
let app: ChildProcess | undefined
afterAll(async () => {
  if (app && app.exitCode === null) {
    app.kill('SIGKILL')
    await new Promise((r) => app?.once('exit', r))
  }
  rmSync(dir, { recursive: true, force: true })
})

// The visit count as the examples' page shows it.
const viewsOf = (html: string): number => Number(/data-testid="views">(\d+)</.exec(html)?.[1])

describe.skipIf(!built)('the express example on sqlite:./data/sessions.db', () => {
  it('starts, keeps sessions in the file, and stops cleanly', { timeout: 60_000 }, async () => {
    const port = await freePort()
    const child = spawn(process.execPath, [server], {
      cwd: dir,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        PORT: String(port),
        DATABASE_URL: 'sqlite:./data/sessions.db',
        SESSION_SECRET: randomBytes(32).toString('base64'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    app = child
    let err = ''
    child.stderr?.on('data', (d: Buffer) => {
      err += d
    })
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => {
        if (String(d).includes('express example on')) resolve()
      })
      child.once('exit', (code) => reject(new Error(`example exited ${code}: ${err}`)))
    })
    const base = `http://127.0.0.1:${port}`

    const first = await fetch(`${base}/`)
    const cookie = first.headers.get('set-cookie')?.split(';')[0] ?? ''
    expect(cookie).toMatch(/^connect\.sid=/)
    expect(viewsOf(await first.text())).toBe(1)
    expect(viewsOf(await (await fetch(`${base}/`, { headers: { cookie } })).text())).toBe(2)

    const login = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=ada',
      redirect: 'manual',
    })
    expect(login.status).toBe(303)
    const loggedIn = login.headers.get('set-cookie')?.split(';')[0] ?? ''
    expect(loggedIn).not.toBe(cookie)
    const page = await (await fetch(`${base}/`, { headers: { cookie: loggedIn } })).text()
    expect(page).toContain('ada')
    expect(viewsOf(page)).toBe(3)

    // The sessions are in the file the URL named, relative to where the app started.
    const file = join(dir, 'data', 'sessions.db')
    expect(existsSync(file)).toBe(true)
    const reader = sqliteStore({ path: file, createTable: false })
    const rows = await reader.findByRef('ada')
    expect(rows).toHaveLength(1)
    await reader.close()

    child.kill('SIGTERM')
    const code = await new Promise((r) => child.once('exit', r))
    expect(code).toBe(0)
    expect(err).toBe('')
  })
})
