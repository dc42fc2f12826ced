import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { SessionError } from '../../errors.js'
import type { SessionData } from '../../serialize.js'
import { type HeldLease, Session } from '../../session.js'
import type { ReadResult, SessionStore } from '../../store.js'
import { Turns } from '../turns.js'
import { type Codec, stateOf } from './codec.js'
import { type ManagerContext, SOURCE } from './context.js'

const busy = (waited: number): SessionError =>
  new SessionError(
    'E_BUSY',
    SOURCE,
    `the session stayed locked by another request for ${waited} ms (serialize.wait); nothing was read`,
  )

/**
 * Serialised mode: PHP's session lock without a held connection. A load takes the row's lease
 * (waiting, bounded, while another request holds it) and the commit or release gives it back.
 * Within one process, requests of a key queue on a promise (`Turns`), so only the head of each
 * queue asks the store.
 */
export class Leases<T extends SessionData> {
  readonly #ctx: ManagerContext<T>
  readonly #codec: Codec<T>
  readonly #lease: number
  readonly #wait: number
  readonly #turns = new Turns()
  /** The turn's end of each key a request of this process holds. */
  readonly #holding = new Map<string, () => void>()

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
      const left = Math.max(0, started + this.#wait - performance.now())
      const end = await this.#turns.enter(key, left, this.#lease)
      if (!end) throw busy(this.#wait)
      const token = randomBytes(12).toString('base64url')
      let row: ReadResult | null
      try {
        row = await this.#take(key, token, started)
      } catch (e) {
        end()
        throw e
      }
      if (!row) {
        end()
        continue
      }
      const held: HeldLease = { key, token, end }
      this.#holding.set(key, end)
      const decoded = await this.#codec.decode(row)
      if (!decoded) {
        await this.giveBack(held, true).catch(() => {})
        return null
      }
      return new Session<T>(id, decoded.data, this.#ctx.o.idle, {
        loaded: stateOf(row, decoded.plain, decoded.current),
        presented: true,
        destroyed: false,
        regenerate: false,
        touch: false,
        lease: held,
      })
    }
    return null
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
    this.#holding.get(key)?.()
    this.#holding.delete(key)
  }

  /** Take the row's lease, waiting (bounded) while another holder has it; null when there is no row. */
  async #take(key: string, token: string, started: number): Promise<ReadResult | null> {
    const { call, store } = this.#ctx
    const take = store.lease?.bind(store) as NonNullable<SessionStore['lease']>
    for (let attempt = 0; ; attempt++) {
      const r = await call('lease', () => take({ key, token, ttl: this.#lease }))
      if (r.ok) return r.row
      if (r.reason === 'missing') return null
      const left = started + this.#wait - performance.now()
      if (left <= 0) throw busy(this.#wait)
      // Another process holds it: poll, never later than its lapse, with jittered backoff.
      const backoff = 2 + Math.random() * Math.min(100, 4 * 2 ** attempt)
      await sleep(Math.max(1, Math.min(left, r.wait + 1, backoff)))
    }
  }
}
