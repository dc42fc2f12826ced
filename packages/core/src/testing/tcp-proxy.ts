import { createConnection, createServer, type Socket } from 'node:net'

/** A TCP proxy on 127.0.0.1 whose link to the target a test can cut and restore. */
export interface TcpProxy {
  /** The port the proxy listens on. */
  readonly port: number
  /** Replace `host:port` in a database URL with the proxy's address. */
  url(target: string): string
  /** Drop every open connection and refuse new ones, as a database outage looks to a client. */
  cut(): Promise<void>
  /** Accept connections again on the same port. */
  restore(): Promise<void>
  close(): Promise<void>
}

/**
 * Start a TCP proxy in front of a database so a test can simulate an outage without touching the
 * shared server: `cut()` destroys the sockets the proxy holds (only this test's connections) and
 * resets new ones; `restore()` lets them through again.
 *
 * @example
 * const proxy = await createTcpProxy({ host: '127.0.0.1', port: 5432 })
 * const store = pgStore({ url: proxy.url(PG_URL) })
 * await proxy.cut() // queries now fail with E_STORE
 */
export async function createTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>()
  let down = false
  const server = createServer((client) => {
    if (down) {
      client.destroy()
      return
    }
    const upstream = createConnection(target)
    open.add(client)
    open.add(upstream)
    const end = () => {
      client.destroy()
      upstream.destroy()
      open.delete(client)
      open.delete(upstream)
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    port,
    url(url: string) {
      const u = new URL(url)
      u.hostname = '127.0.0.1'
      u.port = String(port)
      return u.toString()
    },
    async cut() {
      if (down) return
      down = true
      // Stop listening as well: a refused connection fails fast in every driver, while one that
      // is accepted and then dropped makes some drivers retry for a long time.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const s of open) s.destroy()
      open.clear()
      await closed
    },
    async restore() {
      if (!down) return
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject)
          resolve()
        })
      })
      down = false
    },
    async close() {
      for (const s of open) s.destroy()
      open.clear()
      if (!down) await new Promise<void>((resolve) => server.close(() => resolve()))
      down = true
    },
  }
}
