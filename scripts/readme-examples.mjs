#!/usr/bin/env node
// Runs every README's main example as a user would: packs the packages into tarballs, makes a
// scratch app per README outside the repository, runs the README's install line verbatim (with
// SESSILE naming the tarball folder), then runs the example. A README whose example no longer
// runs fails this script. Also runs the one-line store swaps of scripts/first-contact/.
//
// Marked in each README (invisible when rendered):
//   <!-- example:install -->       before the ```sh install block
//   <!-- example:run server -->    before a ```js app that listens on PORT and counts views on GET /
//   <!-- example:run script -->    before a ```js script that must end by itself with exit code 0
//
// Usage: node scripts/readme-examples.mjs [--no-pack] [name...]   (after `pnpm build`)
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(fileURLToPath(new URL('..', import.meta.url)))
const args = process.argv.slice(2)
const noPack = args.includes('--no-pack')
const only = args.filter((a) => !a.startsWith('--'))
const readmes = [
  'README.md',
  ...readdirSync(join(root, 'packages')).map((p) => `packages/${p}/README.md`),
].filter((f) => existsSync(join(root, f)))
const packsDir = join(root, 'packs')

function pack() {
  rmSync(packsDir, { recursive: true, force: true })
  mkdirSync(packsDir)
  execFileSync(
    'pnpm',
    [
      '-r',
      '--filter',
      './packages/*',
      '--filter',
      '!@sessile/bench',
      '--filter',
      '!@sessile/reliability',
    ].concat(['pack', '--out', join(packsDir, '%s.tgz')]),
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
  )
}

/** The marked blocks of a README: { install, kind, code, lang }. */
function examplesOf(file) {
  const text = readFileSync(join(root, file), 'utf8')
  const block = (marker) => {
    const at = text.indexOf(marker)
    if (at < 0) return undefined
    const m = /```(\w+)\n([\s\S]*?)\n```/.exec(text.slice(at))
    return m && { lang: m[1], code: m[2], line: text.slice(at, at + marker.length + 40) }
  }
  const install = block('<!-- example:install -->')
  const runMarker = /<!-- example:run (server|script) -->/.exec(text)
  if (!install && !runMarker) return undefined
  if (!install || !runMarker) throw new Error(`${file}: needs both example:install and example:run`)
  const run = block(runMarker[0])
  return { install: install.code, kind: runMarker[1], code: run.code, lang: run.lang }
}

const freePort = () =>
  new Promise((ok, fail) => {
    const s = createServer()
    s.on('error', fail)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => ok(port))
    })
  })

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function start(dir, env) {
  const child = spawn(process.execPath, ['app.mjs'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => {
    out += d
  })
  child.stderr.on('data', (d) => {
    out += d
  })
  const exited = new Promise((ok) => child.on('exit', (code, signal) => ok({ code, signal })))
  return { child, exited, output: () => out }
}

/** GET / until it answers, then twice more with the cookie: the count must go up by one each time. */
async function checkServer(port, run) {
  const url = `http://127.0.0.1:${port}/`
  let first
  for (let i = 0; i < 240 && !first; i++) {
    first = await fetch(url).catch(() => undefined)
    if (!first) {
      if (run.child.exitCode !== null) throw new Error('the app exited before it answered')
      await sleep(250)
    }
  }
  if (!first) throw new Error('the app never answered')
  const cookie = first.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ')
  const bodies = [await first.text()]
  for (let i = 0; i < 2; i++) bodies.push(await (await fetch(url, { headers: { cookie } })).text())
  const counts = bodies.map((b) => Number(/(\d+)/.exec(b)?.[1]))
  if (!cookie || counts[1] !== counts[0] + 1 || counts[2] !== counts[0] + 2) {
    throw new Error(
      `the counter did not count: ${JSON.stringify(bodies)} (cookie ${cookie ? 'set' : 'missing'})`,
    )
  }
  return `GET / three times: ${bodies.map((b) => JSON.stringify(b.slice(0, 40))).join(', ')}`
}

async function runOne(name, { install, kind, code }, base) {
  const dir = join(base, name.replace(/[^\w.-]+/g, '_'))
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }))
  writeFileSync(join(dir, 'app.mjs'), `${code}\n`)
  const started = Date.now()
  for (const line of install.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'))) {
    const cmd = line.replace(/\s+#.*$/, '')
    execFileSync('bash', ['-c', `${cmd} --no-audit --no-fund --loglevel=error`], {
      cwd: dir,
      env: { ...process.env, SESSILE: packs },
      stdio: ['ignore', 'ignore', 'inherit'],
    })
  }
  const installed = Date.now()
  const port = await freePort()
  const env = {
    ...process.env,
    CI: undefined,
    PORT: String(port),
    SESSION_SECRET: randomBytes(32).toString('base64'),
    SESSION_KEY: randomBytes(32).toString('base64'),
    SESSION_KEY_K1: randomBytes(32).toString('base64'),
    SESSION_KEY_K2: randomBytes(32).toString('base64'),
  }
  delete env.DATABASE_URL
  const run = start(dir, env)
  try {
    let what
    if (kind === 'server') {
      what = await checkServer(port, run)
    } else {
      const timer = sleep(90_000).then(() => ({ code: 'timeout' }))
      const end = await Promise.race([run.exited, timer])
      if (end.code !== 0)
        throw new Error(`the script ended with ${end.code}${end.signal ? ` (${end.signal})` : ''}`)
      what = 'ran to its end, exit 0'
    }
    return `${what}; install ${((installed - started) / 1000).toFixed(0)} s, run ${((Date.now() - installed) / 1000).toFixed(0)} s`
  } catch (error) {
    error.message += `\n--- output of ${name}:\n${run.output()}`
    throw error
  } finally {
    if (run.child.exitCode === null) {
      run.child.kill('SIGTERM')
      await Promise.race([run.exited, sleep(5000)])
      if (run.child.exitCode === null) run.child.kill('SIGKILL')
    }
  }
}

const examples = []
for (const file of readmes) {
  const ex = examplesOf(file)
  if (ex) examples.push([file, ex])
}
// The one-line swaps of an existing express-session / koa-session app (issue #21).
for (const f of readdirSync(join(root, 'scripts/first-contact')).filter((n) => n.endsWith('.mjs'))) {
  const code = readFileSync(join(root, 'scripts/first-contact', f), 'utf8')
  const install = /^\/\/ install: (.*)$/m.exec(code)?.[1]
  examples.push([`scripts/first-contact/${f}`, { install, kind: 'server', code }])
}
const chosen = only.length ? examples.filter(([f]) => only.some((o) => f.includes(o))) : examples

if (!noPack) pack()
const packs = noPack && process.env.SESSILE ? process.env.SESSILE : packsDir
const base = mkdtempSync(join(tmpdir(), 'sessile-readme-'))
console.log(`README examples from packed tarballs (${packs}), scratch apps in ${base}:`)
let failed = 0
for (const [file, ex] of chosen) {
  const t0 = Date.now()
  try {
    const note = await runOne(file, ex, base)
    console.log(`  ok   ${file} (${ex.kind}): ${note}`)
  } catch (error) {
    failed++
    console.log(
      `  FAIL ${file} (${ex.kind}) after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${error.message}`,
    )
  }
}
rmSync(base, { recursive: true, force: true })
console.log(`${chosen.length - failed} of ${chosen.length} examples ran${failed ? `; ${failed} failed` : ''}`)
process.exit(failed ? 1 : 0)
