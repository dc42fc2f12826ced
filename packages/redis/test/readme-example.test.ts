import { createSessions } from '@sessile/core'
import { expiryNotifier } from '@sessile/notify'
import { afterAll, expect, it } from 'vitest'
import { createStore } from '../src/index.js'
import { dropPrefix, REDIS_URL, reachRedis, uniquePrefix } from './_helpers.js'

const reach = await reachRedis()
const prefix = uniquePrefix()
afterAll(async () => {
  if (!reach.skip) await dropPrefix(REDIS_URL, prefix)
})

// The README's example, on the machine's Redis under a prefix of this run.
it.skipIf(reach.skip)('the README example stores, finds and ends a session', async () => {
  const store = createStore(REDIS_URL, { prefix })
  const sessions = createSessions({
    store,
    ref: (data) => (typeof data.userId === 'string' ? data.userId : null),
    idleTimeout: '30m',
    absoluteTimeout: '12h',
  })
  const notifier = expiryNotifier(sessions, { interval: false, onExpire: () => {} })

  const session = await sessions.load(undefined)
  session.set('userId', 'u-42')
  const saved = await sessions.commit(session)
  expect(saved.cookie).toBe('set')

  const again = await sessions.load(saved.id)
  expect(again.get('userId')).toBe('u-42')

  expect((await sessions.findByRef('u-42')).length).toBe(1)
  expect(await sessions.count()).toBe(1)
  expect((await store.destroyByRef('u-42')).length).toBe(1)
  expect((await sessions.load(saved.id)).isNew).toBe(true)

  await notifier.stop()
  await store.close()
})
