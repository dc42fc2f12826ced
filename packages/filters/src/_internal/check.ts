import { SessionError } from '@sessile/core'

/** Describe a bad option value for an error message without dumping secrets or huge objects. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`
  if (typeof value === 'string') return `a string of ${value.length} characters`
  if (typeof value === 'number') return String(value)
  return typeof value
}

export function optionError(source: string, message: string): SessionError {
  return new SessionError('E_OPTION', source, message)
}

/** An options argument: undefined or a plain object. */
export function checkOptionsObject(source: string, options: unknown): Record<string, unknown> {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw optionError(source, `options must be an object (got ${describeValue(options)})`)
  }
  return options as Record<string, unknown>
}

/** A whole number within [min, max], or the default when undefined. */
export function intOption(
  source: string,
  name: string,
  value: unknown,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw optionError(
      source,
      `${name} must be a whole number from ${min} to ${max} (got ${describeValue(value)})`,
    )
  }
  return value
}
