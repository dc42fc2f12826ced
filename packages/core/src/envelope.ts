import { SessionError } from './errors.js'
import type { Filter } from './filter.js'

/**
 * The envelope every stored payload carries (format version 1):
 *
 * ```text
 * byte 0      0x53 ('S')                     magic
 * byte 1      0x01                           format version
 * then, for each filter in encode order:
 *   u8        id length L (1..32)
 *   L bytes   filter id (ASCII)
 *   u8        param length P (0..255)
 *   P bytes   param
 * u8          0x00                           end of header
 * rest        body: the last filter's output (the serialised JSON when there are no filters)
 * ```
 *
 * The associated data for layer i is the header bytes from byte 0 to the end of layer i's entry,
 * then 0xFF, then the UTF-8 storage key.
 */
export const ENVELOPE_MAGIC = 0x53
export const ENVELOPE_VERSION = 1
/**
 * @internal The whole header of an envelope no filter ran over, as text: written in front of the
 * JSON before its UTF-8 step, it gives the stored payload in one allocation, with no copy.
 */
export const PLAIN_HEADER = String.fromCharCode(ENVELOPE_MAGIC, ENVELOPE_VERSION, 0)
const MAX_LAYERS = 16
const ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/
const SOURCE = 'envelope'

export interface DecodedEnvelope {
  plaintext: Uint8Array
  /** False when the payload was not written the way the current filter list would write it. */
  current: boolean
}

export function checkFilterId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new SessionError(
      'E_OPTION',
      'filters',
      `filter id must be 1 to 32 of [A-Za-z0-9_-] (got ${String(id)})`,
    )
  }
}

function entry(id: string, param: Uint8Array): Buffer {
  if (param.byteLength > 255) {
    throw new SessionError('E_INVALID', SOURCE, `filter "${id}" produced a param over 255 bytes`)
  }
  const idBytes = Buffer.from(id, 'ascii')
  return Buffer.concat([Buffer.of(idBytes.length), idBytes, Buffer.of(param.byteLength), param])
}

function aadOf(prefix: Buffer, key: string): Uint8Array {
  return Buffer.concat([prefix, Buffer.of(0xff), Buffer.from(key, 'utf8')])
}

/** Run `filters` in order over `plaintext` and wrap the result in an envelope. */
export async function encodeEnvelope(
  filters: readonly Filter[],
  plaintext: Uint8Array,
  key: string,
  maxSize: number,
): Promise<Uint8Array> {
  let header = Buffer.of(ENVELOPE_MAGIC, ENVELOPE_VERSION)
  let body: Uint8Array = plaintext
  for (const filter of filters) {
    const before = header
    const out = await filter.encode(body, {
      key,
      maxSize,
      aad: (param) => aadOf(Buffer.concat([before, entry(filter.id, param)]), key),
    })
    if (!out || !(out.data instanceof Uint8Array) || !(out.param instanceof Uint8Array)) {
      throw new SessionError('E_INVALID', SOURCE, `filter "${filter.id}" returned no data`)
    }
    header = Buffer.concat([before, entry(filter.id, out.param)])
    body = out.data
  }
  return Buffer.concat([header, Buffer.of(0), body])
}

interface Layer {
  id: string
  param: Uint8Array
  /** Header bytes from 0 to the end of this layer's entry. */
  end: number
}

/** Parse an envelope's header without decoding it. Throws `E_DECODE` for anything malformed. */
export function parseEnvelope(payload: Uint8Array): { layers: Layer[]; bodyOffset: number } {
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  if (buf.length < 3 || buf[0] !== ENVELOPE_MAGIC) {
    throw new SessionError('E_DECODE', SOURCE, 'payload has no Sessile envelope')
  }
  if (buf[1] !== ENVELOPE_VERSION) {
    throw new SessionError('E_DECODE', SOURCE, `unsupported envelope format version ${buf[1]}`)
  }
  const layers: Layer[] = []
  let at = 2
  for (;;) {
    const idLen = buf[at]
    if (idLen === undefined) throw new SessionError('E_DECODE', SOURCE, 'envelope header is truncated')
    if (idLen === 0) {
      at++
      break
    }
    if (idLen > 32 || layers.length >= MAX_LAYERS) {
      throw new SessionError('E_DECODE', SOURCE, 'envelope header is malformed')
    }
    // latin1, not ascii: Node's ascii decoder drops the high bit, so 0xE7 would read as 'g' and
    // a header byte could change without the id changing.
    const id = buf.toString('latin1', at + 1, at + 1 + idLen)
    const paramLen = buf[at + 1 + idLen]
    if (paramLen === undefined || at + 2 + idLen + paramLen > buf.length || !ID_PATTERN.test(id)) {
      throw new SessionError('E_DECODE', SOURCE, 'envelope header is truncated or malformed')
    }
    const paramStart = at + 2 + idLen
    layers.push({ id, param: buf.subarray(paramStart, paramStart + paramLen), end: paramStart + paramLen })
    at = paramStart + paramLen
  }
  return { layers, bodyOffset: at }
}

/**
 * @internal The body of an envelope without layers (no filter ran over it), as a view; null for
 * anything else, which {@link decodeEnvelope} then decodes or refuses.
 */
export function plainBody(payload: Uint8Array): Uint8Array | null {
  return payload.byteLength >= 3 &&
    payload[0] === ENVELOPE_MAGIC &&
    payload[1] === ENVELOPE_VERSION &&
    payload[2] === 0
    ? payload.subarray(3)
    : null
}

/**
 * Undo an envelope: decode each layer in reverse with the filter named in the header, looked up
 * in `decoders`. A payload naming a filter that is not available, or failing any layer, throws
 * `E_DECODE`; it is never passed through.
 */
export async function decodeEnvelope(
  payload: Uint8Array,
  key: string,
  decoders: ReadonlyMap<string, Filter>,
  current: readonly Filter[],
  maxSize: number,
): Promise<DecodedEnvelope> {
  const { layers, bodyOffset } = parseEnvelope(payload)
  for (const filter of current) {
    if (filter.required === true && !layers.some((layer) => layer.id === filter.id)) {
      throw new SessionError('E_DECODE', SOURCE, `payload lacks the required "${filter.id}" layer`)
    }
  }
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  let body: Uint8Array = buf.subarray(bodyOffset)
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i] as Layer
    const filter = decoders.get(layer.id)
    if (!filter)
      throw new SessionError(
        'E_DECODE',
        SOURCE,
        `payload needs filter "${layer.id}", which is not configured`,
      )
    try {
      body = await filter.decode(body, layer.param, {
        key,
        maxSize,
        aad: aadOf(buf.subarray(0, layer.end), key),
      })
    } catch (cause) {
      throw new SessionError('E_DECODE', SOURCE, `filter "${layer.id}" could not decode the payload`, {
        cause,
      })
    }
    if (!(body instanceof Uint8Array))
      throw new SessionError('E_DECODE', SOURCE, `filter "${layer.id}" returned no data`)
  }
  if (body.byteLength > maxSize) {
    throw new SessionError('E_DECODE', SOURCE, `decoded payload exceeds the size limit of ${maxSize} bytes`)
  }
  const isCurrent =
    layers.length === current.length &&
    layers.every((layer, i) => {
      const f = current[i] as Filter
      return f.id === layer.id && (f.isCurrent ? f.isCurrent(layer.param) : true)
    })
  return { plaintext: body, current: isCurrent }
}
