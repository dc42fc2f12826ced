import { MemoryStore } from '@sessile/core'
import { describeStore } from '@sessile/core/testing'

// Each MemoryStore is its own process-local table, so the cross-store cases do not apply.
describeStore('memory', () => new MemoryStore(), { shared: false })
