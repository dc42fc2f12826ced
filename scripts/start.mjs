// `pnpm start [express|koa|hono]` and `pnpm demo`: build what is needed without replaying the
// build logs (they are printed only when the build fails), then run the app in this process's
// place, so Ctrl-C ends it with exit code 0 and no "Command failed" from pnpm.
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const what = process.argv[2] ?? 'express'
const targets = {
  express: [['@sessile/example-express...'], ['server.mjs'], 'examples/express'],
  koa: [['@sessile/example-koa...'], ['server.mjs'], 'examples/koa'],
  hono: [['@sessile/example-hono...'], ['server.mjs'], 'examples/hono'],
  demo: [['@sessile/drizzle...', '@sessile/filters...', '@sessile/notify...'], ['scripts/demo.mjs'], '.'],
}
const target = targets[what]
if (!target) {
  console.error(`unknown app ${JSON.stringify(what)}: use one of ${Object.keys(targets).join(', ')}`)
  process.exit(2)
}
const [filters, args, cwd] = target

process.stdout.write('building… ')
const build = spawnSync(
  'pnpm',
  ['exec', 'turbo', 'run', 'build', ...filters.map((f) => `--filter=${f}`), '--output-logs=errors-only'],
  { cwd: root, encoding: 'utf8' },
)
if (build.status !== 0) {
  console.log('failed:')
  console.log(build.stdout, build.stderr)
  process.exit(build.status ?? 1)
}
console.log('done.')

const child = spawn(process.execPath, args, { cwd: `${root}/${cwd}`, stdio: 'inherit' })
// Ctrl-C reaches the app too (same process group). After a Ctrl-C the app's own exit code is not
// a failure to report: some libraries end the process with 1 on SIGINT while it starts.
let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => {
    interrupted = true
    child.kill(signal)
  })
child.on('exit', (code) => process.exit(interrupted ? 0 : (code ?? 1)))
