import { createServer, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { HttpAdapterApp } from './http-adapter.js'

/**
 * Serve a Node request listener (an Express app, `koaApp.callback()`, …) on 127.0.0.1 at a free
 * port. `close()` also drops keep-alive connections, so a suite's clean-up never waits on them.
 */
export function serveLoopback(listener: RequestListener): Promise<HttpAdapterApp> {
  const server = createServer(listener)
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          }),
      })
    })
  })
}

/**
 * A loopback port that was free a moment ago, for a server a test starts in another process
 * (a redis-server, an example app, PHP's built-in server).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo
      s.close(() => resolve(port))
    })
  })
}
