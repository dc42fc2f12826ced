// The device list: a user's live sessions with what each device told us at its last page view.
import { decodeEnvelope, deserialize } from '@sessile/core'

/**
 * Sessions of `user`, newest activity first. `findByRef` lists rows (no data); each row's own
 * data, read and decoded here, holds the browser and address the device last came from.
 */
export async function deviceList(sessions, user, currentKey) {
  const rows = await sessions.findByRef(user)
  const { store, options } = sessions
  const out = []
  for (const row of rows) {
    let data = {}
    try {
      const stored = await store.read(row.key)
      if (!stored) continue // ended since the list was read
      const { plaintext } = await decodeEnvelope(
        stored.data,
        stored.key,
        options.decoders,
        options.filters,
        options.maxSize,
      )
      data = deserialize(plaintext)
    } catch {
      // An undecodable row is listed without its details.
    }
    out.push({
      ...describeAgent(data.ua),
      ip: String(data.ip ?? '?').replace(/^::ffff:/, ''),
      seen: row.modified,
      current: row.key === currentKey,
    })
  }
  return out.sort((a, b) => Number(b.current) - Number(a.current) || b.seen - a.seen)
}

/** Browser and OS from a User-Agent header, by the tokens browsers put in it (order matters). */
export function describeAgent(ua = '') {
  const browsers = [
    [/Edg\//, 'Edge'],
    [/OPR\/|Opera/, 'Opera'],
    [/Firefox\//, 'Firefox'],
    [/HeadlessChrome\//, 'Chrome (headless)'],
    [/Chrome\/|CriOS\//, 'Chrome'],
    [/Safari\//, 'Safari'],
    [/curl\//, 'curl'],
  ]
  const systems = [
    [/iPhone|iPad|iPod/, 'iOS'],
    [/Android/, 'Android'],
    [/CrOS/, 'ChromeOS'],
    [/Windows/, 'Windows'],
    [/Mac OS X|Macintosh/, 'macOS'],
    [/Linux/, 'Linux'],
  ]
  const pick = (list) => list.find(([re]) => re.test(ua))?.[1]
  return { browser: pick(browsers) ?? 'Unknown browser', os: pick(systems) ?? 'unknown system' }
}

/** "just now", "2 minutes ago", "3 hours ago". */
export function ago(date, now = Date.now()) {
  const s = Math.max(0, Math.round((now - date.getTime()) / 1000))
  if (s < 45) return 'just now'
  const [n, unit] =
    s < 3600
      ? [Math.round(s / 60), 'minute']
      : s < 86400
        ? [Math.round(s / 3600), 'hour']
        : [Math.round(s / 86400), 'day']
  return `${n} ${unit}${n === 1 ? '' : 's'} ago`
}
