import { parseDuration, SessionError, type Sessions } from '@sessile/core'

export const fail = (source: string, message: string): never => {
  throw new SessionError('E_OPTION', source, message)
}

/** Refuse anything that is not a session manager made by `createSessions`, with a clear message. */
export function checkSessions(source: string, sessions: unknown): asserts sessions is Sessions {
  const s = sessions as Record<string, unknown> | null
  const ok =
    typeof s === 'object' &&
    s !== null &&
    typeof s.on === 'function' &&
    typeof s.emit === 'function' &&
    typeof s.keyOf === 'function' &&
    typeof s.findByRef === 'function' &&
    typeof s.store === 'object' &&
    s.store !== null
  if (!ok) fail(source, 'the first argument must be a session manager made by createSessions()')
}

export function intOption(
  source: string,
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(source, `${name} must be a whole number from ${min} to ${max} (got ${String(value)})`)
  }
  return value as number
}

export function durationOption(source: string, name: string, value: unknown, fallback: string): number {
  try {
    return parseDuration(value ?? fallback, name)
  } catch (e) {
    throw new SessionError(
      'E_OPTION',
      source,
      `${name} must be a positive duration in ms or a string like '30s'`,
      {
        cause: e,
      },
    )
  }
}

export function callbackOption<F>(source: string, name: string, value: unknown): F | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') fail(source, `${name} must be a function`)
  return value as F
}
