import type { RedisClient } from '../options.js'
import type { Script } from './lua.js'

type Arg = string | Buffer | number
type EvalFn = (script: string, numKeys: number, ...args: Arg[]) => Promise<unknown>

/**
 * Run a script by its SHA1 in one round trip; a server that lacks it (new, restarted, failed
 * over) answers NOSCRIPT, and the script is then sent whole, which also caches it there.
 */
export function run(client: RedisClient, script: Script, keys: string[], args: Arg[]): Promise<unknown> {
  const c = client as unknown as { evalshaBuffer: EvalFn; evalBuffer: EvalFn }
  // Not an async function: no promise of its own on the way that succeeds.
  return c.evalshaBuffer(script.sha, keys.length, ...keys, ...args).catch((error: unknown) => {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    return c.evalBuffer(script.lua, keys.length, ...keys, ...args)
  })
}
