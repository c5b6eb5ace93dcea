import { decodeClientMessage, RelayCore, type RelayLimits, RelayServer } from '../../../lib/relay/index.js'

type Teardown = { teardown(fn: () => unknown): void }

/** A relay core that keeps a copy of every message it is fed (control and circuit data alike). */
export class RecordingCore extends RelayCore {
  readonly seen: Buffer[] = []

  override receive(conn: number, data: Uint8Array, now: number): void {
    this.seen.push(Buffer.from(data))
    super.receive(conn, data, now)
  }

  /** Everything seen, as one buffer to search. */
  capture(): Buffer {
    return Buffer.concat(this.seen)
  }
}

/** What a misbehaving relay does to the next circuit message once armed. */
export type Misdeed = 'tamper' | 'drop' | 'replay'

/**
 * A relay that, once {@link arm}ed, flips a bit in, drops, or forwards twice the next message on a
 * circuit (control messages, which decode as such, pass untouched).
 */
export class MisbehavingCore extends RelayCore {
  #armed: Misdeed | null = null
  done = false

  arm(misdeed: Misdeed): void {
    this.#armed = misdeed
  }

  override receive(conn: number, data: Uint8Array, now: number): void {
    const misdeed = this.#armed
    if (misdeed === null || data.length === 0 || isControl(data)) {
      super.receive(conn, data, now)
      return
    }
    this.#armed = null
    this.done = true
    const copy = Uint8Array.from(data)
    if (misdeed === 'tamper') copy[copy.length - 1]! ^= 0x01
    const times = { drop: 0, tamper: 1, replay: 2 }[misdeed]
    for (let i = 0; i < times; i++) super.receive(conn, copy, now)
  }
}

function isControl(data: Uint8Array): boolean {
  try {
    decodeClientMessage(data)
    return true
  } catch {
    return false
  }
}

/** A relay on 127.0.0.1 around `core` (or a fresh one with `limits`); closed at teardown. */
export async function startRelay(
  t: Teardown,
  options: { core?: RelayCore; limits?: Partial<RelayLimits>; port?: number } = {},
) {
  const server = await RelayServer.listen({ host: '127.0.0.1', port: options.port ?? 0, ...options })
  t.teardown(() => server.close())
  return { server, address: server.address() }
}
