import { fileURLToPath } from 'node:url'
import { describeBuiltExports } from '@sessile/core/testing'

describeBuiltExports(fileURLToPath(new URL('..', import.meta.url)))
