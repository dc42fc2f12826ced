import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { SessionError } from '../../errors.js'
import type { SessionData } from '../../serialize.js'
import { deserialize } from '../../serialize.js'
import type { LoadedState } from '../../session.js'
import { type HeldLease, Session } from '../../session.js'
import type { ReadResult, SessionStore } from '../../store.js'
import { randomBytesPooled } from '../random.js'
import { Turns } from '../turns.js'
import { type Codec, stateOf, storeNowOf } from './codec.js'
import { type ManagerContext, SOURCE } from './context.js'

const busy = (waited: number): SessionError =>
  new SessionError(
    'E_BUSY',
    SOURCE,
    `the session stayed locked by another request for ${waited} ms (serialize.wait); nothing was read`,
  )

/** A lease and the session under it, as a load or a conflicting save takes them. */
export interface Acquired<T> {
  held: HeldLease
  state: LoadedState
  data: T
}

/** A lease kept for the next request of this process, with the row as its holder left it. */
interface HandOff {
  token: string
  takenAt: number
  validAt: number
  state: LoadedState
}

/**
 * Leases: PHP's session lock without a held connection, for every session in serialised mode and
 * for hot ones otherwise. A load takes the row's lease (waiting, bounded, while another request
 * holds it) and the commit or release gives it back. Within one process, requests of a key queue
 * on a promise (`Turns`), so only the head of each queue asks the store.
 *
 * A commit that finds requests of this process waiting for the same session hands its lease and
 * the row as it wrote it to the next one instead of releasing it, so that request reads nothing:
 * one statement per request instead of three. Only a request that was already waiting when the
 * holder's write was sent takes the handed row (it is then a state the row had during that
 * request's life); a later one re-takes the lease with the same token, which reads the row.
 */
export class Leases<T extends SessionData> {
  readonly #ctx: ManagerContext<T>
  readonly #codec: Codec<T>
  readonly #lease: number
  readonly #wait: number
  readonly #turns = new Turns()
  /** The turn's end of each key a request of this process holds. */
  readonly #holding = new Map<string, () => void>()
  readonly #handoffs = new Map<string, HandOff>()

  constructor(ctx: ManagerContext<T>, codec: Codec<T>, serialize: { lease: number; wait: number }) {
    this.#ctx = ctx
    this.#codec = codec
    this.#lease = serialize.lease
    this.#wait = serialize.wait
  }

  /** The session of `id` under its lease; null when no live, decodable row has it. */
  async load(id: string): Promise<Session<T> | null> {
    const started = performance.now()
    for (const key of this.#ctx.keysOf(id)) {
      const got = await this.#acquire(key, started)
      if (got === 'missing') continue
      if (!got) return null
      return new Session<T>(id, got.data, this.#ctx.o.idle, {
        loaded: got.state,
        presented: true,
        destroyed: false,
        regenerate: false,
        touch: false,
        lease: got.held,
      })
    }
    return null
  }

  /**
   * The lease of `key` and the session under it, waiting (bounded) for this process's turn and for
   * another holder; null when no live, decodable row has the key. Throws `E_BUSY` when the wait
   * runs out.
   */
  async acquire(key: string): Promise<Acquired<T> | null> {
    const got = await this.#acquire(key, performance.now())
    return got === 'missing' ? null : got
  }

  /** Whether a commit of `held` should keep the lease for a request of this process that waits. */
  mayHandOff(held: HeldLease): boolean {
    return this.#someoneWaits(held) && performance.now() - held.takenAt < this.#lease / 2
  }

  /** Still `held`'s turn (a holder slower than the lease has lost it), and a request waits behind it. */
  #someoneWaits(held: HeldLease): boolean {
    return this.#holding.get(held.key) === held.end && this.#turns.waiting(held.key)
  }

  /**
   * Give the lease, and the row as `state` says it stands since `validAt`, to the next request of
   * this process; with none waiting any more, release it.
   */
  handOff(held: HeldLease, state: LoadedState, validAt: number): Promise<void> {
    if (!this.#someoneWaits(held)) return this.giveBack(held, true)
    const { key } = held
    const h: HandOff = { token: held.token, takenAt: held.takenAt, validAt, state: { ...state } }
    this.#handoffs.set(key, h)
    // Nobody took it (the waiter gave up): forget it once the lease has lapsed anyway.
    setTimeout(() => {
      if (this.#handoffs.get(key) === h) this.#handoffs.delete(key)
    }, this.#lease).unref?.()
    held.end()
    if (this.#holding.get(key) === held.end) this.#holding.delete(key)
    return Promise.resolve()
  }

  async #acquire(key: string, started: number): Promise<Acquired<T> | null | 'missing'> {
    const arrived = performance.now()
    const queued = this.#turns.busy(key)
    const left = Math.max(0, started + this.#wait - arrived)
    const end = await this.#turns.enter(key, left, this.#lease)
    if (!end) throw busy(this.#wait)
    const handed = this.#handoffs.get(key)
    this.#handoffs.delete(key)
    if (handed && handed.validAt >= arrived) {
      const held: HeldLease = {
        key,
        token: handed.token,
        end,
        waited: true,
        takenAt: handed.takenAt,
        validAt: handed.validAt,
      }
      this.#holding.set(key, end)
      const state = {
        ...handed.state,
        readAt: performance.now(),
        storeNow: new Date(storeNowOf(handed.state)),
      }
      return { held, state, data: deserialize(state.plain) as T }
    }
    // A lease handed on to us that we may not read from is still ours: re-take it, reading the row.
    const token = handed?.token ?? randomBytesPooled(12).toString('base64url')
    const takenAt = performance.now()
    let taken: { row: ReadResult | null; polled: boolean }
    try {
      taken = await this.#take(key, token, started)
    } catch (e) {
      end()
      throw e
    }
    if (!taken.row) {
      end()
      return 'missing'
    }
    const held: HeldLease = { key, token, end, waited: queued || taken.polled, takenAt, validAt: takenAt }
    this.#holding.set(key, end)
    const decoded = await this.#codec.decode(taken.row)
    if (!decoded) {
      await this.giveBack(held, true).catch(() => {})
      return null
    }
    return { held, state: stateOf(taken.row, decoded.plain, decoded.current), data: decoded.data }
  }

  /** End the turn and, unless a write already did (`release` false), release the row's lease. */
  async giveBack(held: HeldLease, release: boolean): Promise<void> {
    const { call, store } = this.#ctx
    try {
      if (release) {
        const free = store.release?.bind(store) as NonNullable<SessionStore['release']>
        await call('release', () => free(held.key, held.token))
      }
    } finally {
      held.end()
      if (this.#holding.get(held.key) === held.end) this.#holding.delete(held.key)
    }
  }

  /** The row of `key` is gone: let the next request of it in (it finds nothing). */
  ended(key: string): void {
    this.#handoffs.delete(key)
    this.#holding.get(key)?.()
    this.#holding.delete(key)
  }

  /** Take the row's lease, waiting (bounded) while another holder has it; null when there is no row. */
  async #take(
    key: string,
    token: string,
    started: number,
  ): Promise<{ row: ReadResult | null; polled: boolean }> {
    const { call, store } = this.#ctx
    const take = store.lease?.bind(store) as NonNullable<SessionStore['lease']>
    for (let attempt = 0; ; attempt++) {
      const r = await call('lease', () => take({ key, token, ttl: this.#lease }))
      if (r.ok) return { row: r.row, polled: attempt > 0 }
      if (r.reason === 'missing') return { row: null, polled: attempt > 0 }
      const left = started + this.#wait - performance.now()
      if (left <= 0) throw busy(this.#wait)
      // Another process holds it: poll, never later than its lapse, with jittered backoff.
      const backoff = 2 + Math.random() * Math.min(100, 4 * 2 ** attempt)
      await sleep(Math.max(1, Math.min(left, r.wait + 1, backoff)))
    }
  }
}
