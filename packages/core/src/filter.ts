/**
 * A filter transforms the payload on its way to and from the store (compression, encryption).
 * `encode` runs in list order on write, `decode` in reverse order on read.
 *
 * Every filter writes a small `param` (at most 255 bytes) into the payload's envelope header:
 * whether a compressor compressed, which key an encryptor used. The envelope therefore says how
 * each payload was written, and changing the filter list never breaks sessions already stored.
 */
export interface Filter {
  /** A stable id of 1 to 32 ASCII letters, digits, `-` or `_`, written into every envelope. */
  readonly id: string
  encode(input: Uint8Array, context: EncodeContext): Encoded | Promise<Encoded>
  decode(input: Uint8Array, param: Uint8Array, context: DecodeContext): Uint8Array | Promise<Uint8Array>
  /**
   * Whether a payload written with `param` is written the way this filter would write it today.
   * An encryptor returns false for payloads under an old key, so the manager rewrites them.
   */
  isCurrent?(param: Uint8Array): boolean
  /**
   * When true, a payload whose envelope has no layer with this filter's id is rejected while
   * this filter is configured. An encryptor sets it: otherwise anyone able to write to the
   * session table could forge a session by storing a payload that simply skips encryption.
   */
  readonly required?: boolean
}

export interface Encoded {
  data: Uint8Array
  /** Up to 255 bytes recorded in the envelope for `decode`. */
  param: Uint8Array
}

export interface EncodeContext {
  /** The storage key of the session being written. */
  readonly key: string
  /** The largest plaintext the manager accepts, in bytes. */
  readonly maxSize: number
  /**
   * Associated data binding this layer to its session: the envelope header up to and including
   * this layer's entry (written with `param`), a 0xFF byte, then the UTF-8 storage key.
   */
  aad(param: Uint8Array): Uint8Array
}

export interface DecodeContext {
  readonly key: string
  /** The largest plaintext the manager accepts; decompressors must not produce more. */
  readonly maxSize: number
  /** The same associated data `EncodeContext.aad` produced for this layer. */
  readonly aad: Uint8Array
}
