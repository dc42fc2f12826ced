/**
 * `@sessile/notify`: the expiry notifier and the session monitor. Each group's heading comment is
 * followed by a blank line, which Biome's import sorting keeps as a boundary between groups.
 */

// The expiry notifier: sweeps, onExpire(ref, key), onDestroy(ref, key, reason)

export {
  type ExpiryNotifier,
  type ExpiryNotifierOptions,
  expiryNotifier,
  type SweepResult,
} from './notifier.js'

// Failures reported to onError

export type { FailureHandler, NotifyFailure } from './failure.js'

// The monitor: active count, device list, who is logged in, eject, max sessions per ref

export {
  type DeviceSession,
  type SessionMonitor,
  type SessionMonitorOptions,
  sessionMonitor,
} from './monitor.js'
