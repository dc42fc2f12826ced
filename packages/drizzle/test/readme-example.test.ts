import { createSessions } from '@sessile/core'
import { expect, it } from 'vitest'
import { createStore } from '../src/index.js'

// The README's example, on the zero-setup default (SQLite, here in memory).
it('the README example stores, finds and ends a session with createSessions', {
  timeout: 60_000,
}, async () => {
  const store = createStore('sqlite::memory:', { table: 'sessions' })
  const sessions = createSessions({
    store,
    ref: (data) => (typeof data.userId === 'string' ? data.userId : null),
    idleTimeout: '30m',
    absoluteTimeout: '12h',
  })

  // Request 1: log in.
  const session = await sessions.load(undefined)
  session.set('userId', 'u-42')
  const saved = await sessions.commit(session)
  expect(saved.cookie).toBe('set')

  // Request 2, maybe on another app server: the cookie brings the session back.
  const again = await sessions.load(saved.id)
  expect(again.get('userId')).toBe('u-42')

  // "Who is logged in?" and "log this user out everywhere".
  expect((await sessions.findByRef('u-42')).length).toBe(1)
  expect(await sessions.count()).toBe(1)
  await store.destroyByRef('u-42')
  expect((await sessions.load(saved.id)).isNew).toBe(true)
  await store.close()
})
