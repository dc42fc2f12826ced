import { storeError } from '@sessile/core'
import type { MysqlClient, MysqlDone } from './client.js'
import { type MysqlRetryPolicy, retryMysql } from './retry.js'

/**
 * Sends one prepared statement and maps its result. The way that succeeds makes one promise,
 * around the driver's callback, with `map` run inside it: the store's hot path stacks no async
 * layers. Retries (under `policy`: a conflict, a lost connection, a node to fail over from) and
 * the error wrapping run only after a failed first try.
 */
export function sendStatement<R = unknown>(
  client: MysqlClient,
  source: string,
  action: string,
  text: string,
  params: unknown[],
  policy: MysqlRetryPolicy,
  map?: (result: unknown) => R | PromiseLike<R>,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const done: MysqlDone = (error, result) => {
      if (error === null || error === undefined) {
        try {
          resolve(map ? map(result) : (result as R))
        } catch (e) {
          reject(storeError(source, action, e))
        }
        return
      }
      retry(client, source, action, text, params, policy, error)
        .then((again) => (map ? map(again) : (again as R)))
        .then(resolve, reject)
    }
    try {
      client.send(text, params, done)
    } catch (error) {
      done(error)
    }
  })
}

async function retry(
  client: MysqlClient,
  source: string,
  action: string,
  text: string,
  params: unknown[],
  policy: MysqlRetryPolicy,
  error: unknown,
): Promise<unknown> {
  try {
    return (await retryMysql(policy, () => client.execute(text, params), { error }))[0]
  } catch (e) {
    throw storeError(source, action, e)
  }
}
