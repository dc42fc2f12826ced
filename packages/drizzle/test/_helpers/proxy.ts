import { connect, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP forwarder the test can take down and bring back, to play a database that is down at
 * start-up or goes away under a running store, without touching the real server. It also records
 * what clients send, and can hold back every reply on the connections open so far (`freeze`), as
 * a dead network path would.
 */
export class FlakyProxy {
  readonly #target: { host: string; port: number }
  #server: Server | undefined
  readonly #sockets = new Set<Socket>()
  /** Each forwarded connection's upstream socket and the client it replies to. */
  readonly #replies = new Map<Socket, Socket>()
  #sent: Buffer[] = []
  port = 0
  /** Connections accepted so far. */
  connections = 0

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
      this.connections++
      const upstream = connect(this.#target)
      this.#sockets.add(client).add(upstream)
      this.#replies.set(upstream, client)
      const drop = () => {
        client.destroy()
        upstream.destroy()
        this.#sockets.delete(client)
        this.#sockets.delete(upstream)
        this.#replies.delete(upstream)
      }
      client.on('error', drop).on('close', drop)
      upstream.on('error', drop).on('close', drop)
      client.on('data', (d: Buffer) => this.#sent.push(d))
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

  /** What clients have sent since the start (or the last `clearSent`), as latin1 text. */
  sent(): string {
    return Buffer.concat(this.#sent).toString('latin1')
  }

  clearSent(): void {
    this.#sent = []
  }

  /** Hold back every reply on the connections open now; later connections are forwarded. */
  freeze(): void {
    for (const [upstream, client] of this.#replies) upstream.unpipe(client)
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
