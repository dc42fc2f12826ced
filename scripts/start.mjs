// `pnpm start [express|koa|hono]` and `pnpm demo`: build what is needed without replaying the
// build logs (they are printed only when the build fails), then run the app in this process's
// place, so Ctrl-C ends it with exit code 0 and no "Command failed" from pnpm.
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const what = process.argv[2] ?? 'express'
const targets = {
  express: ['@sessile/example-express...', ['server.mjs'], 'examples/express'],
  koa: ['@sessile/example-koa...', ['server.mjs'], 'examples/koa'],
  hono: ['@sessile/example-hono...', ['server.mjs'], 'examples/hono'],
  demo: ['@sessile/drizzle...', ['scripts/demo.mjs'], '.'],
}
const target = targets[what]
if (!target) {
  console.error(`unknown app ${JSON.stringify(what)}: use one of ${Object.keys(targets).join(', ')}`)
  process.exit(2)
}
const [filter, args, cwd] = target

process.stdout.write('building… ')
const build = spawnSync(
  'pnpm',
  ['exec', 'turbo', 'run', 'build', `--filter=${filter}`, '--output-logs=errors-only', '--log-prefix=none'],
  { cwd: root, encoding: 'utf8' },
)
if (build.status !== 0) {
  console.log('failed:')
  console.log(build.stdout, build.stderr)
  process.exit(build.status ?? 1)
}
console.log('done.')

const child = spawn(process.execPath, args, { cwd: `${root}/${cwd}`, stdio: 'inherit' })
// Ctrl-C reaches the app too (same process group); the app stops cleanly and its code is ours.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => process.exit(signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : (code ?? 1)))
