import { performance } from 'node:perf_hooks'
import { decodeEnvelope, PLAIN_HEADER, plainBody } from '../../envelope.js'
import { isSessionError, SessionError } from '../../errors.js'
import type { Emitter, SessionEvents } from '../../events.js'
import type { ResolvedOptions } from '../../options.js'
import { deserialize, type SessionData, serializeText } from '../../serialize.js'
import type { LoadedState } from '../../session.js'
import type { ReadResult, WriteResult } from '../../store.js'
import { SOURCE } from './context.js'

/** A session's serialised bytes and, when no filter runs, the stored payload they are a view of. */
export interface Plain {
  plain: Uint8Array
  /** The envelope, ready to store; null when filters encode it at write time. */
  payload: Uint8Array | null
}

/** A row's session data, its serialised bytes, and whether it was written as today's filters would. */
export interface Decoded<T> {
  data: T
  plain: Uint8Array
  current: boolean
}

// `{}`: a session emptied of every field is deleted, not stored.
export const isEmptyObject = (b: Uint8Array): boolean => b.byteLength === 2 && b[0] === 0x7b && b[1] === 0x7d

/**
 * Session data to stored bytes and back: JSON, then the filters and the envelope. The common case
 * (no filter layer to undo) is one synchronous step, so a read costs no extra promise.
 */
export class Codec<T extends SessionData> {
  readonly #o: ResolvedOptions<T>
  readonly #events: Emitter<SessionEvents>
  // A payload without envelope layers may be read without the filter machinery, unless a
  // configured filter is required (an encryptor: a plain payload would be a forgery).
  readonly #plainReadable: boolean
  readonly #noFilters: boolean

  constructor(o: ResolvedOptions<T>, events: Emitter<SessionEvents>) {
    this.#o = o
    this.#events = events
    this.#plainReadable = !o.filters.some((f) => f.required === true)
    this.#noFilters = o.filters.length === 0
  }

  /** The common case in one synchronous step: no layers to undo. Null: take {@link decodeRow}. */
  decodePlain(row: ReadResult): Decoded<T> | null {
    if (!this.#plainReadable) return null
    const plain = plainBody(row.data)
    if (plain === null || plain.byteLength > this.#o.maxSize) return null
    try {
      return { data: deserialize(plain) as T, plain, current: this.#noFilters }
    } catch {
      // Not JSON: decodeRow reports it.
      return null
    }
  }

  /** A row's session: at once when no layer needs undoing, else through the filters. */
  decode(row: ReadResult): Decoded<T> | null | Promise<Decoded<T> | null> {
    return this.decodePlain(row) ?? this.decodeRow(row)
  }

  /** Through the filters; a payload that fails is reported (`decodeError`) and gives null. */
  async decodeRow(row: ReadResult): Promise<Decoded<T> | null> {
    const o = this.#o
    try {
      const { plaintext, current } = await decodeEnvelope(row.data, row.key, o.decoders, o.filters, o.maxSize)
      return { data: deserialize(plaintext) as T, plain: plaintext, current }
    } catch (e) {
      const error = isSessionError(e)
        ? e
        : new SessionError('E_DECODE', SOURCE, 'payload could not be decoded', { cause: e })
      await this.#events.emit('decodeError', { key: row.key, error })
      return null
    }
  }

  /** Serialise, refusing data over `maxSize`; without filters the envelope is made here too. */
  encode(data: T): Plain {
    const text = serializeText(data)
    let plain: Uint8Array
    let payload: Uint8Array | null = null
    if (this.#noFilters) {
      // The envelope's header and the JSON in one allocation; the plain bytes are a view of it.
      payload = Buffer.from(PLAIN_HEADER + text, 'utf8')
      plain = payload.subarray(PLAIN_HEADER.length)
    } else {
      plain = Buffer.from(text, 'utf8')
    }
    const { maxSize } = this.#o
    if (plain.byteLength > maxSize) {
      throw new SessionError(
        'E_TOO_LARGE',
        SOURCE,
        `session data of ${plain.byteLength} bytes exceeds maxSize (${maxSize} bytes); nothing was written`,
      )
    }
    return { plain, payload }
  }
}

/** What the manager remembers of a row it read, to compare and version the next write. */
export function stateOf(row: ReadResult, plain: Uint8Array, current: boolean): LoadedState {
  return {
    key: row.key,
    plain,
    version: row.version,
    ref: row.ref,
    created: row.created,
    expiry: row.expiry,
    storeNow: row.now,
    readAt: performance.now(),
    current,
  }
}

/** The store's clock now (ms), from a state's reading of it and our monotonic time since. */
export function storeNowOf(state: LoadedState): number {
  return state.storeNow.getTime() + (performance.now() - state.readAt)
}

/** The same for a row this manager has just inserted (created now, by the store's clock). */
export function insertedState(
  key: string,
  plain: Uint8Array,
  ref: string | null,
  r: WriteResult & { ok: true },
  idle: number,
): LoadedState {
  const now = new Date(r.expiry.getTime() - idle)
  return {
    key,
    plain,
    version: r.version,
    ref,
    created: now,
    expiry: r.expiry,
    storeNow: now,
    readAt: performance.now(),
    current: true,
  }
}
