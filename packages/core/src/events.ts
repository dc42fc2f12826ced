import type { SessionError } from './errors.js'

/** Why a session ended, as reported to `destroy` listeners. */
export type DestroyReason =
  /** `session.destroy()` (logout). */
  | 'destroy'
  /** The old key of `session.regenerate()`. */
  | 'regenerate'
  /** The data became empty, so the row was removed. */
  | 'emptied'
  /** `sessions.destroyByRef()` ("log this user out everywhere"). */
  | 'ref'
  /** Removed by a policy such as max sessions per ref. */
  | 'evict'

/** The events a session manager emits. Listeners may be async; their failures are reported, never thrown. */
export interface SessionEvents {
  /** A session row was deleted by the application (expiry is reported by `@sessile/notify`). */
  destroy: { key: string; ref: string | null; reason: DestroyReason }
  /** A session was saved with a ref it did not have before (a login). */
  ref: { key: string; ref: string; previous: string | null }
  /** A stored payload could not be decoded; the request got a fresh session instead. */
  decodeError: { key: string; error: SessionError }
  /** A listener threw or rejected, or a background task failed. */
  error: { error: unknown; event: string }
}

export type Listener<T> = (event: T) => void | Promise<void>

/** A small typed emitter with no global state: every manager has its own. */
export class Emitter<E extends { error: { error: unknown; event: string } }> {
  readonly #listeners = new Map<keyof E, Set<Listener<never>>>()

  on<K extends keyof E>(name: K, listener: Listener<E[K]>): () => void {
    let set = this.#listeners.get(name)
    if (!set) {
      set = new Set()
      this.#listeners.set(name, set)
    }
    set.add(listener as Listener<never>)
    return () => {
      set.delete(listener as Listener<never>)
    }
  }

  has(name: keyof E): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0
  }

  /** Call every listener and wait for all of them; a failing listener is reported as `error`. */
  async emit<K extends keyof E>(name: K, event: E[K]): Promise<void> {
    const set = this.#listeners.get(name)
    if (!set || set.size === 0) return
    const results = await Promise.allSettled(
      [...set].map(async (listener) => (listener as Listener<E[K]>)(event)),
    )
    for (const r of results) {
      if (r.status === 'rejected') this.#fail(r.reason, String(name))
    }
  }

  #fail(error: unknown, event: string): void {
    const set = this.#listeners.get('error')
    if (event === 'error' || !set || set.size === 0) {
      console.error(`[sessile] a listener of "${event}" failed:`, error)
      return
    }
    void this.emit('error', { error, event } as E['error'])
  }
}
