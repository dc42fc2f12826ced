import { connect, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP forwarder the test can take down and bring back, to play a database that is down at
 * start-up or goes away under a running store, without touching the real server.
 */
export class FlakyProxy {
  readonly #target: { host: string; port: number }
  #server: Server | undefined
  readonly #sockets = new Set<Socket>()
  port = 0

  constructor(targetHost: string, targetPort: number) {
    this.#target = { host: targetHost, port: targetPort }
  }

  /** Reserve a port without listening, so the first connections are refused. */
  async reserve(): Promise<number> {
    await this.up()
    await this.down()
    return this.port
  }

  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.#target)
      this.#sockets.add(client).add(upstream)
      const drop = () => {
        client.destroy()
        upstream.destroy()
        this.#sockets.delete(client)
        this.#sockets.delete(upstream)
      }
      client.on('error', drop).on('close', drop)
      upstream.on('error', drop).on('close', drop)
      client.pipe(upstream)
      upstream.pipe(client)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => resolve())
    })
    this.port = (server.address() as { port: number }).port
    this.#server = server
  }

  /** Stop listening and cut every forwarded connection. */
  async down(): Promise<void> {
    for (const s of this.#sockets) s.destroy()
    this.#sockets.clear()
    const server = this.#server
    this.#server = undefined
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
