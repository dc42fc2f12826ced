// Each example in a real browser (Debian's chromium through playwright-core), on the zero-setup
// SQLite file, on PostgreSQL and on Redis: counter, login, a second device in a second browser
// context, both listed, "log out other devices" ends the first device, logout; cookie flags
// checked; a screenshot of each page is kept in examples/shared/test/.screenshots (git-ignored).
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { EXAMPLES, PG_URL, REDIS_URL, reachable, startExample } from './_helpers.mjs'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const SHOTS = fileURLToPath(new URL('./.screenshots/', import.meta.url))
// A LAN-like host name, resolved to loopback inside the browser only: cookies must work over
// plain HTTP on any host, not only on localhost.
const LAN_HOST = 'sessile-lan.test'
const PHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'

let chromium
if (!existsSync(CHROMIUM)) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing under CI=true`)
  console.warn(`\n  SKIPPED: no browser at ${CHROMIUM}; the browser tests did not run\n`)
} else {
  chromium = (await import('playwright-core')).chromium
}

const views = async (page) => Number(await page.getByTestId('views').textContent())

const SERVERS = { PostgreSQL: ['pg', PG_URL], Redis: ['redis', REDIS_URL] }

for (const dbName of ['SQLite', 'PostgreSQL', 'Redis']) {
  describe(`examples in Chromium on ${dbName}`, { skip: !chromium }, async () => {
    const server = SERVERS[dbName]
    const db = server ? await reachable(server[0]) : { ok: true }
    let browser
    before(async () => {
      await mkdir(SHOTS, { recursive: true })
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', `--host-resolver-rules=MAP ${LAN_HOST} 127.0.0.1`],
      })
    })
    after(async () => {
      await browser?.close()
      await db.end?.()
    })

    for (const name of EXAMPLES) {
      it(`${name}: counter, login, two devices, log out other devices, logout`, {
        skip: !db.ok,
        timeout: 240_000,
      }, async () => {
        const table = `ex_browser_${name}_${process.pid}`
        const dir = dbName === 'SQLite' ? await mkdtemp(join(tmpdir(), 'sessile-ex-')) : undefined
        const env = dir
          ? { SQLITE_PATH: join(dir, 'sessions.db'), DATABASE_URL: undefined }
          : { DATABASE_URL: server[1], SESSILE_TABLE: table }
        const app = await startExample(name, env)
        const shot = (page, step) =>
          page.screenshot({ path: join(SHOTS, `${name}-${dbName}-${step}.png`), fullPage: true })
        const laptop = await browser.newContext()
        const phone = await browser.newContext({
          userAgent: PHONE_UA,
          viewport: { width: 390, height: 844 },
          isMobile: true,
        })
        try {
          const a = await laptop.newPage()
          await a.goto(`${app.url}/`)
          assert.equal(await views(a), 1)
          await a.reload()
          assert.equal(await views(a), 2, 'the counter counts across page loads')
          const [cookie] = await laptop.cookies()
          assert.ok(cookie, 'a session cookie is set')
          assert.equal(cookie.httpOnly, true)
          assert.equal(cookie.sameSite, 'Lax')
          assert.equal(cookie.secure, false, 'plain HTTP: no Secure flag, or the browser would drop it')
          assert.equal(cookie.name.startsWith('__Host-'), false)
          // The page works on a phone: it declares a viewport and has a favicon.
          assert.match(await a.content(), /name="viewport" content="width=device-width/)
          assert.ok(await a.locator('link[rel=icon]').count())
          await shot(a, '1-home')

          await a.getByLabel('user name').fill('ann')
          await a.getByRole('button', { name: 'Log in' }).click()
          await a.getByRole('status').filter({ hasText: 'You are logged in' }).waitFor()
          assert.equal(await views(a), 3, 'the count survives the login (a new id)')
          await shot(a, '2-logged-in')

          const b = await phone.newPage()
          await b.goto(`${app.url}/`)
          await b.getByLabel('user name').fill('ann')
          await b.getByRole('button', { name: 'Log in' }).click()
          await b.getByRole('status').filter({ hasText: 'You are logged in' }).waitFor()
          await b.getByRole('link', { name: 'Your devices' }).click()
          const items = b.locator('ul.devices li')
          assert.equal(await items.count(), 2, 'both devices are listed')
          const mine = b.locator('ul.devices li[data-current]')
          assert.match(await mine.textContent(), /Safari on iOS/)
          assert.match(await mine.textContent(), /this device/)
          assert.match(await items.nth(1).textContent(), /Chrome \(headless\) on Linux/)
          assert.match(await b.locator('ul.devices').textContent(), /last seen (just now|\d+ minutes? ago)/)
          const phoneScroll = await b.evaluate(() => document.documentElement.scrollWidth)
          assert.ok(phoneScroll <= 390, `no sideways scrolling on a phone (${phoneScroll}px)`)
          await shot(b, '3-devices-phone')

          await b.getByRole('button', { name: 'Log out other devices' }).click()
          await b.getByRole('status').filter({ hasText: 'Logged out 1 other device.' }).waitFor()
          assert.equal(await items.count(), 1)
          await shot(b, '4-others-logged-out')

          // The laptop's session has ended: its devices page sends it to the login form.
          await a.goto(`${app.url}/devices`)
          await a.getByRole('button', { name: 'Log in' }).waitFor()
          assert.equal(await views(a), 1, 'the ended session is not brought back')

          await b.goto(`${app.url}/`)
          await b.getByRole('button', { name: 'Log out' }).click()
          await b.getByRole('status').filter({ hasText: 'You are logged out' }).waitFor()
          await shot(b, '5-logged-out')
        } finally {
          await laptop.close()
          await phone.close()
          const end = await app.stop()
          if (dir) await rm(dir, { recursive: true, force: true })
          else await db.drop(table)
          assert.equal(end?.code, 0, `${name} exits 0 on SIGTERM`)
        }
      })

      // A browser drops a Secure cookie sent over plain HTTP: every adapter's defaults must work
      // on a LAN host name without TLS (Hono decides Secure from the request's own scheme).
      it(`${name}: the counter counts over plain HTTP on a LAN-like host name`, {
        skip: !db.ok || dbName !== 'SQLite',
        timeout: 120_000,
      }, async () => {
        const dir = await mkdtemp(join(tmpdir(), 'sessile-ex-'))
        const app = await startExample(name, {
          SQLITE_PATH: join(dir, 'sessions.db'),
          DATABASE_URL: undefined,
        })
        const context = await browser.newContext()
        try {
          const page = await context.newPage()
          await page.goto(`http://${LAN_HOST}:${app.port}/`)
          await page.reload()
          await page.reload()
          assert.equal(await views(page), 3)
          await page.screenshot({ path: join(SHOTS, `${name}-${dbName}-lan.png`), fullPage: true })
        } finally {
          await context.close()
          await app.stop()
          await rm(dir, { recursive: true, force: true })
        }
      })
    }
  })
}
