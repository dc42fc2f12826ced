import { MemoryStore } from '@sessile/core'
import { describeHttpAdapter } from '@sessile/core/testing'
import { contractApp, listen } from '../src/testing.js'

describeHttpAdapter('express on MemoryStore', {
  store: () => new MemoryStore(),
  start: async (sessions) => listen(contractApp(sessions).app),
})
