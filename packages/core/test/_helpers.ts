import { type DestroyHint, MemoryStore, type SessionStore, type WriteRequest } from '@sessile/core'

/** A real MemoryStore with a movable clock that counts the calls each operation receives. */
export class CountingStore extends MemoryStore {
  calls: Record<string, number> = {}
  offset = 0

  constructor() {
    super({ clock: () => Date.now() + this.offset })
  }

  #count(name: string): void {
    this.calls[name] = (this.calls[name] ?? 0) + 1
  }

  advance(ms: number): void {
    this.offset += ms
  }

  override read(key: string) {
    this.#count('read')
    return super.read(key)
  }

  override write(req: WriteRequest) {
    this.#count(`write:${req.mode}`)
    return super.write(req)
  }

  override touch(req: Parameters<SessionStore['touch']>[0]) {
    this.#count('touch')
    return super.touch(req)
  }

  /** The hint each destroy was given, in order. */
  hints: (DestroyHint | undefined)[] = []

  override destroy(key: string, hint?: DestroyHint) {
    this.#count('destroy')
    this.hints.push(hint)
    return super.destroy(key, hint)
  }

  get writes(): number {
    return Object.entries(this.calls)
      .filter(([k]) => k.startsWith('write') || k === 'touch' || k === 'destroy')
      .reduce((n, [, v]) => n + v, 0)
  }
}

/** A store whose backend is down: every call fails the way a lost connection does. */
export class DownStore extends MemoryStore {
  down = true
  override async read(key: string) {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432')
    return super.read(key)
  }
  override async write(req: WriteRequest) {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432')
    return super.write(req)
  }
}
