import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { dbUnavailable, freePort, type Reachability } from '@sessile/core/testing'

const DOCROOT = fileURLToPath(new URL('./php', import.meta.url))

/** Whether php-cli with pgsql, mysqli and ADOdb is installed: locally a loud skip, in CI a failure. */
export function reachPhp(): Reachability {
  try {
    const mods = execFileSync('php', ['-m'], { encoding: 'utf8' })
    for (const m of ['pgsql', 'mysqli', 'zlib'])
      if (!mods.split('\n').includes(m)) throw new Error(`php has no ${m} extension`)
    execFileSync('php', ['-d', 'include_path=/usr/share/php', '-r', 'require "adodb/adodb.inc.php";'])
    return dbUnavailable('PHP with ADOdb', null)
  } catch (e) {
    return dbUnavailable(
      'PHP with ADOdb (apt-get install php8.2-cli php8.2-pgsql php8.2-mysql libphp-adodb)',
      e,
    )
  }
}

export interface PhpServer {
  url: string
  pid: number
  stop(): Promise<void>
}

/** PHP's session settings that make PHP agree with a Node app issuing phpIds(). */
export const PHP_INI = [
  'include_path=.:/usr/share/php',
  'session.serialize_handler=php',
  'session.sid_length=32',
  'session.sid_bits_per_character=5',
  'session.use_strict_mode=1',
  'session.use_cookies=1',
  'session.use_only_cookies=1',
  'session.cookie_httponly=1',
  'session.cookie_samesite=Lax',
  'session.gc_probability=0',
  'session.gc_maxlifetime=1800',
  'display_errors=stderr',
  'log_errors=0',
]

/** Start `php -S` on loopback with `env`; stop() ends that process (by its own pid) and waits. */
export async function startPhp(env: Record<string, string>): Promise<PhpServer> {
  const port = await freePort()
  const args = PHP_INI.flatMap((s) => ['-d', s])
  const child: ChildProcess = spawn('php', [...args, '-S', `127.0.0.1:${port}`, '-t', DOCROOT], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  // CI names a folder where each server leaves its pid, to stop it even if this process dies.
  const pidDir = process.env.SESSILE_PHP_PIDDIR
  if (pidDir && child.pid) writeFileSync(join(pidDir, String(child.pid)), '')
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
    if (pidDir && child.pid) rmSync(join(pidDir, String(child.pid)), { force: true })
  }
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    try {
      await fetch(`${url}/ping.php`)
      break
    } catch {
      if (i > 100 || child.exitCode !== null) {
        await stop()
        throw new Error(`php -S did not start: ${stderr}`)
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return { url, pid: child.pid as number, stop }
}

/** A tiny cookie jar for one browser: PHPSESSID only. */
export class Browser {
  id: string | null = null
  constructor(private readonly name = 'PHPSESSID') {}

  async get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(url, { headers: this.id ? { cookie: `${this.name}=${this.id}` } : {} })
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const [k, v] = (pair as string).split('=')
      if (k?.trim() !== this.name) continue
      this.id = v && !/Max-Age=0|expires=Thu, 01[- ]Jan[- ]1970/i.test(line) ? v : null
    }
    const text = await res.text()
    let body: Record<string, unknown>
    try {
      body = JSON.parse(text)
    } catch {
      throw new Error(`${url} answered ${res.status}: ${text.slice(0, 500)}`)
    }
    return { status: res.status, body }
  }
}
