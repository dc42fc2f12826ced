// The expiry notifier: sweeps, onExpire(ref, key), onDestroy(ref, key, reason)

// Failures reported to onError
export type { FailureHandler, NotifyFailure } from './failure.js'

// The monitor: active count, device list, who is logged in, eject, max sessions per ref
export {
  type DeviceSession,
  type SessionMonitor,
  type SessionMonitorOptions,
  sessionMonitor,
} from './monitor.js'
export {
  type ExpiryNotifier,
  type ExpiryNotifierOptions,
  expiryNotifier,
  type SweepResult,
} from './notifier.js'
