import { describe } from '../duration.js'
import { SessionError } from '../errors.js'
import { expressSessionIds, type IdFormat, MIN_ID_BITS, sessileIds, uuidV4Ids } from '../ids.js'

/** `E_OPTION` from the option checks. */
export const fail = (message: string): never => {
  throw new SessionError('E_OPTION', 'options', message)
}

const HOW_TO_MAKE_A_SECRET = 'use crypto.randomBytes(32).toString("base64")'

export function toSecret(s: unknown): Buffer {
  if (s === undefined || s === null || s === '')
    fail(
      `secret is ${s === '' ? 'empty' : String(s)}: is the environment variable unset? ` +
        `Remove the option to store raw ids, or set it (${HOW_TO_MAKE_A_SECRET})`,
    )
  const b =
    typeof s === 'string'
      ? Buffer.from(s, 'utf8')
      : s instanceof Uint8Array
        ? Buffer.from(s)
        : fail(`secret must be a string or bytes (got ${describe(s)})`)
  if (b.length < 32) fail(`secret must be at least 32 bytes; ${HOW_TO_MAKE_A_SECRET}`)
  if (isWeakSecret(b))
    fail(
      `secret is too regular to be secret (few distinct bytes or a repeated pattern); ${HOW_TO_MAKE_A_SECRET}`,
    )
  return b
}

/** Fewer than 8 distinct bytes, or the repetition of a pattern of 1 to 8 bytes. */
function isWeakSecret(b: Buffer): boolean {
  if (new Set(b).size < 8) return true
  for (let period = 1; period <= 8; period++) {
    let repeats = true
    for (let i = period; i < b.length && repeats; i++) repeats = b[i] === b[i - period]
    if (repeats) return true
  }
  return false
}

function checkFormat(f: unknown, what: string): IdFormat {
  const o = f as Partial<IdFormat> | null
  if (typeof o !== 'object' || o === null || typeof o.test !== 'function' || typeof o.name !== 'string')
    fail(`${what} must be an id format { name, bits, test(id) } (got ${describe(f)})`)
  const format = o as IdFormat
  if (typeof format.bits !== 'number' || !(format.bits >= MIN_ID_BITS))
    fail(
      `${what} "${format.name}" carries ${String(format.bits)} random bits; at least ${MIN_ID_BITS} are required`,
    )
  return format
}

export function resolveIds(
  options: {
    ids?: IdFormat | undefined
    idBytes?: number | undefined
    acceptIds?: readonly IdFormat[] | undefined
  },
  idBytes: number,
): { ids: IdFormat & { generate(): string }; acceptIds: IdFormat[] } {
  let ids: IdFormat & { generate(): string }
  if (options.ids === undefined) ids = sessileIds(idBytes)
  else {
    if (options.idBytes !== undefined) fail('give either ids or idBytes, not both')
    const f = checkFormat(options.ids, 'ids')
    if (typeof f.generate !== 'function')
      fail(`ids "${f.name}" must have generate(): the manager issues ids in it`)
    ids = f as IdFormat & { generate(): string }
  }
  const extra = options.acceptIds ?? [expressSessionIds, uuidV4Ids]
  if (!Array.isArray(extra)) fail('acceptIds must be an array of id formats')
  const acceptIds = [ids, ...(extra as unknown[]).map((f) => checkFormat(f, 'acceptIds'))]
  return { ids, acceptIds }
}
