import {
  createSessions,
  MemoryStore,
  type SessionStore,
  type Sessions,
  type SessionsOptions,
} from '@sessile/core'

/** A manager on a MemoryStore whose clock the test moves. */
export function memorySessions(more: Partial<SessionsOptions<{ userId?: string; n?: number }>> = {}) {
  const clock = { now: Date.now() }
  const store = new MemoryStore({ clock: () => clock.now })
  const sessions = createSessions<{ userId?: string; n?: number }>({
    store,
    ref: (data) => data.userId ?? null,
    ...more,
  })
  return { store, sessions, clock }
}

/** `count` rows that are already expired on the store's clock, with refs `user-<i % refs>`. */
export async function seedExpired(
  sessions: { store: SessionStore },
  clock: { now: number },
  count: number,
  refs = 7,
): Promise<Map<string, string | null>> {
  const rows = new Map<string, string | null>()
  for (let i = 0; i < count; i++) {
    const key = `expired-${i}`
    const ref = i % 3 === 0 ? null : `user-${i % refs}`
    rows.set(key, ref)
    await sessions.store.write({ key, data: new Uint8Array([1]), ref, mode: 'insert', ttl: 1 })
  }
  clock.now += 10
  return rows
}

/** Log a user in on a fresh session; resolves to the cookie id. */
export async function login(
  sessions: Sessions<{ userId?: string; n?: number }>,
  userId: string,
): Promise<string> {
  const session = sessions.create({ userId })
  const r = await sessions.commit(session)
  if (r.cookie !== 'set') throw new Error(`login did not set a cookie: ${JSON.stringify(r)}`)
  return session.id
}

export function deferred<T = void>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}
