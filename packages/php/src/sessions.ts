import {
  createSessions,
  type SessionData,
  SessionError,
  type Sessions,
  type SessionsOptions,
} from '@sessile/core'
import { phpIds } from './ids.js'

/**
 * The session manager for a session shared with PHP: `createSessions` with PHP's ids (issued and
 * the only ones accepted), refusing the two options PHP cannot share. PHP looks a session up by
 * the raw id in its cookie, so keys cannot be stored hashed (`secret`); and PHP reads its own
 * bytes, so the store's codec compresses, not manager filters.
 *
 * @example
 * const sessions = phpSessions({ store: await phpPgStore({ url }), ref: (d) => d.userId ?? null })
 */
export function phpSessions<T extends SessionData = SessionData>(options: SessionsOptions<T>): Sessions<T> {
  const fail = (m: string): never => {
    throw new SessionError('E_OPTION', 'php', m)
  }
  if (typeof options !== 'object' || options === null) fail('phpSessions needs an options object')
  if (options.secret !== undefined)
    fail(
      'secret cannot be used with a session shared with PHP: PHP finds the row by the raw id, not its HMAC',
    )
  if (options.filters !== undefined && options.filters.length > 0)
    fail(
      "filters cannot be used with a session shared with PHP: PHP reads its own bytes (use the store codec's gzip)",
    )
  return createSessions({ ...options, ids: options.ids ?? phpIds(), acceptIds: options.acceptIds ?? [] })
}
