import { type SessionData, type SessionInfo, type SessionRef, type Sessions, storeError } from '@sessile/core'
import { callbackOption, checkSessions, intOption } from './_internal/check.js'
import { type FailureHandler, type NotifyFailure, reporter } from './failure.js'

const SOURCE = 'monitor'

/** Options of {@link sessionMonitor}. */
export interface SessionMonitorOptions {
  /**
   * Keep at most this many live sessions per ref: when a session gets a ref (a login), the sessions
   * of that ref beyond this number are destroyed, least recently written first, and reported as
   * `destroy` events with reason `'evict'` (so an `expiryNotifier`'s `onDestroy` sees them).
   * `1` forbids a second concurrent login. From 1 to 10000.
   * @default undefined (no limit)
   */
  maxPerRef?: number
  /**
   * Receives a failure of the max-per-ref policy (`stage: 'policy'`). Without it, the failure is
   * emitted as the manager's `error` event. The login that triggered the policy is never failed.
   * @default undefined
   */
  onError?: (failure: NotifyFailure) => void
}

/** One session of a ref, as a device list shows it. */
export interface DeviceSession extends SessionInfo {
  /** True for the session whose cookie id was passed as `current`. */
  current: boolean
}

/** The monitor; see {@link sessionMonitor}. */
export interface SessionMonitor {
  /** The number of live sessions. */
  count(): Promise<number>
  /**
   * The live sessions of a ref, oldest first: created, last activity (`modified`), `expiry`, and
   * `current` for the one whose cookie id is given.
   */
  devices(ref: string | number, options?: { current?: string | null | undefined }): Promise<DeviceSession[]>
  /** Refs with at least one live session ("who is logged in"), sorted, at most `limit`. */
  refs(limit?: number): Promise<string[]>
  /**
   * Destroy every session of a ref ("log this user out everywhere"), except the one whose cookie
   * id is `except` ("log out my other devices"). Each is reported as a `destroy` event with
   * reason `'ref'`. Resolves to the sessions destroyed.
   */
  eject(ref: string | number, options?: { except?: string | null | undefined }): Promise<SessionRef[]>
  /** Remove the max-per-ref policy listener. Idempotent. */
  close(): void
}

const bySeniority = (trigger: string) => (a: SessionInfo, b: SessionInfo) =>
  b.modified.getTime() - a.modified.getTime() ||
  // On a tie (a coarse store clock), the session that just logged in is the newest.
  Number(b.key === trigger) - Number(a.key === trigger) ||
  (a.key < b.key ? 1 : a.key > b.key ? -1 : 0)

/**
 * The session monitor: active count, device list, who is logged in, "log this user out
 * everywhere" and an optional max-sessions-per-ref policy. It holds no state beyond a listener on
 * the manager: every answer comes from the store, so it is the same on every app server.
 *
 * @example
 * const monitor = sessionMonitor(sessions, { maxPerRef: 3 })
 * const devices = await monitor.devices(user.id, { current: req.sessionID })
 * await monitor.eject(user.id, { except: req.sessionID }) // log out my other devices
 */
export function sessionMonitor<T extends SessionData>(
  sessions: Sessions<T>,
  options: SessionMonitorOptions = {},
): SessionMonitor {
  checkSessions(SOURCE, sessions)
  const maxPerRef =
    options.maxPerRef === undefined
      ? undefined
      : intOption(SOURCE, 'maxPerRef', options.maxPerRef, 1, 1, 10_000)
  const report: FailureHandler = reporter(
    sessions as unknown as Sessions,
    callbackOption(SOURCE, 'onError', options.onError),
  )

  // With several secrets (rotation) a session may sit under the key of any of them.
  const keysOf = (id: string | null | undefined): string[] =>
    typeof id === 'string' ? sessions.keysOf(id) : []

  async function enforce(ref: string, trigger: string): Promise<void> {
    if (maxPerRef === undefined) return
    const rows = await sessions.findByRef(ref)
    if (rows.length <= maxPerRef) return
    const victims = rows.sort(bySeniority(trigger)).slice(maxPerRef)
    for (const row of victims) {
      let gone: SessionRef | null
      try {
        gone = await sessions.store.destroy(row.key, { ref: row.ref })
      } catch (e) {
        throw storeError(`${SOURCE}] [${sessions.store.name}`, 'destroy', e)
      }
      if (gone) await sessions.emit('destroy', { key: gone.key, ref: gone.ref, reason: 'evict' })
    }
  }

  const unsubscribe =
    maxPerRef === undefined
      ? () => {}
      : sessions.on('ref', async (event) => {
          try {
            await enforce(event.ref, event.key)
          } catch (error) {
            report({ stage: 'policy', error, key: event.key, ref: event.ref, attempts: 1, willRetry: false })
          }
        })

  return {
    count: () => sessions.count(),
    async devices(ref, opts = {}) {
      const mine = new Set(keysOf(opts.current))
      const rows = await sessions.findByRef(ref)
      return rows.map((row) => ({ ...row, current: mine.has(row.key) }))
    },
    refs: (limit) => sessions.refs(limit),
    async eject(ref, opts = {}) {
      const keep = keysOf(opts.except)
      if (keep.length === 0) return sessions.destroyByRef(ref, { reason: 'ref' })
      const rows = await sessions.findByRef(ref)
      const except = rows.find((r) => keep.includes(r.key))?.key ?? (keep[0] as string)
      return sessions.destroyByRef(ref, { except, reason: 'ref' })
    },
    close: unsubscribe,
  }
}
