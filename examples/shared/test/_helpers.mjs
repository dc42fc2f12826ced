// Starts an example as its own process on a free loopback port and stops it by its pid.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { freePort } from '@sessile/core/testing'

export const PG_URL = process.env.SESSILE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const MYSQL_URL = process.env.SESSILE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'
export const REDIS_URL = process.env.SESSILE_REDIS_URL ?? 'redis://127.0.0.1:6379'
export const EXAMPLES = ['express', 'koa', 'hono']

/** Runs examples/<name>/server.mjs; resolves once it prints its URL. */
export async function startExample(name, env = {}) {
  const port = await freePort()
  const all = {
    ...process.env,
    SESSION_SECRET: randomBytes(32).toString('base64'),
    PORT: String(port),
    ...env,
  }
  // An undefined value removes the variable (DATABASE_URL: undefined runs on the SQLite file).
  for (const k of Object.keys(all)) if (all[k] === undefined) delete all[k]
  const child = spawn(process.execPath, ['server.mjs'], {
    cwd: fileURLToPath(new URL(`../../${name}/`, import.meta.url)),
    env: all,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const exited = new Promise((ok) => child.on('exit', (code, signal) => ok({ code, signal })))
  const ready = new Promise((ok, fail) => {
    const on = (d) => {
      output += d
      if (output.includes(`http://localhost:${port}`)) ok()
    }
    child.stdout.on('data', on)
    child.stderr.on('data', on)
    exited.then(({ code }) => fail(new Error(`${name} exited with ${code} before listening:\n${output}`)))
    setTimeout(() => fail(new Error(`${name} did not listen within 120 s:\n${output}`)), 120_000).unref()
  })
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const end = await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000, null))])
    if (!end) child.kill('SIGKILL')
    return end
  }
  try {
    await ready
  } catch (error) {
    await stop()
    throw error
  }
  return { url: `http://127.0.0.1:${port}`, port, stop, exited, output: () => output }
}

/** Runs an example that must fail at start-up; resolves with its exit code and output. */
export async function startFailing(name, env) {
  const child = spawn(process.execPath, ['server.mjs'], {
    cwd: fileURLToPath(new URL(`../../${name}/`, import.meta.url)),
    env: {
      ...process.env,
      SESSION_SECRET: randomBytes(32).toString('base64'),
      PORT: String(await freePort()),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const code = await new Promise((ok) => child.on('exit', ok))
  clearTimeout(timer)
  return { code, output }
}

/** Whether a database answers; unreachable is a failure under CI=true, a loud skip otherwise. */
export async function reachable(kind) {
  try {
    if (kind === 'pg') {
      const { default: postgres } = await import('postgres')
      const sql = postgres(PG_URL, { max: 1, connect_timeout: 5, onnotice: () => {} })
      await sql`select 1`
      return {
        ok: true,
        drop: async (t) => {
          await sql.unsafe(`drop table if exists "${t}"`)
        },
        end: () => sql.end(),
      }
    }
    if (kind === 'redis') {
      // The examples keep a "table" of sessions under the prefix `<table>:`; dropping it clears them.
      const { createStore } = await import('@sessile/redis')
      const probe = createStore(REDIS_URL, { prefix: 'ex_probe:', onWarning: false })
      try {
        await probe.count()
      } finally {
        await probe.close()
      }
      return {
        ok: true,
        drop: async (t) => {
          const store = createStore(REDIS_URL, { prefix: `${t}:`, onWarning: false })
          await store.clear()
          await store.close()
        },
      }
    }
    const { createConnection } = await import('mysql2/promise')
    const conn = await createConnection(MYSQL_URL)
    await conn.query('select 1')
    return {
      ok: true,
      drop: async (t) => void (await conn.query(`drop table if exists \`${t}\``)),
      end: () => conn.end(),
    }
  } catch (error) {
    if (process.env.CI === 'true') throw new Error(`${kind} is unreachable under CI=true: ${error.message}`)
    console.warn(`\n  SKIPPED: ${kind} is unreachable (${error.message}); these tests did not run\n`)
    return { ok: false }
  }
}

export const viewsOf = (html) => Number(/data-testid="views">(\d+)</.exec(html)?.[1])
