import { mkdir } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { betterSqlite3Executor, openBetterSqlite3 } from './better-sqlite3.js'
import { isBusy } from './busy.js'
import { libsqlExecutor, openLibsql } from './libsql.js'
import type { Row, SqliteExecutor } from './store.js'

/** What the store opens itself: a file (or `:memory:`) by one driver, or a libSQL URL. */
export type SqliteTarget =
  | { kind: 'path'; path: string; driver: 'better-sqlite3' | 'libsql' | undefined }
  | { kind: 'url'; url: string; authToken: string | undefined }

export interface SqliteSettings {
  busyTimeout: number
  synchronous: 'normal' | 'full'
}

export const isMemoryPath = (path: string): boolean => path === ':memory:'

/**
 * An executor that opens the database on first use (the driver is imported then), and opens it
 * again after a failed start (a missing driver, a locked file).
 */
export function lazyExecutor(target: SqliteTarget, settings: SqliteSettings): SqliteExecutor {
  let own: SqliteExecutor | undefined
  let opening: Promise<SqliteExecutor> | undefined
  let closed = false
  const open = (): Promise<SqliteExecutor> => {
    opening ??= openTarget(target, settings).then(
      (exec) => {
        opening = undefined
        if (closed) {
          void exec.close()
          throw new Error('the store is closed')
        }
        own = exec
        return exec
      },
      (error: unknown) => {
        opening = undefined
        throw error
      },
    )
    return opening
  }
  return {
    query: (text, params): Row[] | Promise<Row[]> => {
      if (closed) throw new Error('the store is closed')
      if (own) return own.query(text, params)
      return open().then((exec) => exec.query(text, params))
    },
    first: (text, params): unknown[] | undefined | Promise<unknown[] | undefined> => {
      if (closed) throw new Error('the store is closed')
      if (own) return own.first(text, params)
      return open().then((exec) => exec.first(text, params))
    },
    close: async () => {
      closed = true
      const exec = own ?? (opening ? await opening.catch(() => undefined) : undefined)
      own = undefined
      if (exec) await exec.close()
    },
  }
}

async function openTarget(target: SqliteTarget, settings: SqliteSettings): Promise<SqliteExecutor> {
  if (target.kind === 'url') {
    const local = target.url.startsWith('file:') || target.url === ':memory:'
    if (target.url.startsWith('file:')) await makeDirectory(fileUrlPath(target.url))
    const exec = libsqlExecutor(await openLibsql(target.url, target.authToken), true)
    if (local) await configure(exec, settings, target.url !== ':memory:')
    return exec
  }
  const memory = isMemoryPath(target.path)
  if (!memory) await makeDirectory(target.path)
  const driver = target.driver ?? (await installedDriver())
  const exec =
    driver === 'better-sqlite3'
      ? betterSqlite3Executor(await openBetterSqlite3(target.path, settings.busyTimeout), true)
      : libsqlExecutor(await openLibsql(memory ? ':memory:' : fileUrl(target.path), undefined), true)
  await configure(exec, settings, !memory)
  return exec
}

// better-sqlite3 when it works here (it is the faster of the two), else libSQL. It loads its
// native part only when a database opens, and a failed build (no compiler, no prebuilt binary)
// leaves the package installed without it: so open one to know.
async function installedDriver(): Promise<'better-sqlite3' | 'libsql'> {
  try {
    ;(await openBetterSqlite3(':memory:', 0)).close()
    return 'better-sqlite3'
  } catch {
    return 'libsql'
  }
}

/**
 * Settings of a connection the store opened. WAL lets readers run beside the one writer and
 * several processes share the file; the busy timeout makes a writer wait for another process's
 * lock instead of failing; `synchronous = NORMAL` is WAL's usual pairing (a commit survives the
 * app crashing; only a power cut can take back the last commits).
 */
async function configure(exec: SqliteExecutor, settings: SqliteSettings, file: boolean): Promise<void> {
  const pragmas = [`PRAGMA busy_timeout = ${settings.busyTimeout}`]
  if (file) pragmas.push('PRAGMA journal_mode = WAL')
  pragmas.push(`PRAGMA synchronous = ${settings.synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
  try {
    for (const pragma of pragmas) {
      // Switching to WAL takes an exclusive lock for a moment: another process starting at the
      // same time can make it busy once more than the timeout covers.
      for (let attempt = 0; ; attempt++) {
        try {
          await exec.query(pragma, [])
          break
        } catch (error) {
          if (attempt >= 20 || !isBusy(error)) throw error
          await new Promise((r) => setTimeout(r, 10 + Math.random() * 40))
        }
      }
    }
  } catch (error) {
    await exec.close().catch(() => {})
    throw error
  }
}

async function makeDirectory(path: string): Promise<void> {
  await mkdir(dirname(resolve(path)), { recursive: true })
}

/** A `file:` URL for a path: libSQL reads `file:` URLs, whose `%`, `?` and `#` must be escaped. */
export function fileUrl(path: string): string {
  return `file:${path.replace(/[%?#]/g, (c) => encodeURIComponent(c))}`
}

function fileUrlPath(url: string): string {
  const rest = url.slice('file:'.length).replace(/[?#].*$/, '')
  return decodeURIComponent(rest.startsWith('//') ? rest.replace(/^\/\/[^/]*/, '') : rest)
}
