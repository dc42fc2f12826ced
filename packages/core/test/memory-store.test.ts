import { MemoryStore } from '@sessile/core'
import { describeStore } from '@sessile/core/testing'

describeStore('memory', () => new MemoryStore())
