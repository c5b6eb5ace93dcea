import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import createDebug from 'debug'
import { Ed25519KeyPair, equalBytes, toHex } from '../crypto/index.js'
import { POLL_INTERVAL_MS, RECORD_TTL_MS } from './constants.js'
import { type LocalMapping, PunchRequester, PunchResponder, type RequesterAction } from './core.js'
import { HolepunchError } from './errors.js'
import {
  type Endpoint,
  openMessage,
  type PunchKeys,
  type PunchMessage,
  recordSalt,
  sealMessage,
} from './messages.js'
import { learnMapping, simultaneousOpen } from './net.js'

const debug = createDebug('pairctl:holepunch')

/**
 * The DHT signalling adapter (`spec/holepunch.md` §4): runs {@link PunchRequester} and
 * {@link PunchResponder} over punch records published and polled in the DHT, with the sockets of
 * `net.ts`.
 * @module
 */

/** A DHT record as `lib/dht` returns it. */
export interface PunchDhtRecord {
  publicKey: Uint8Array
  value: Uint8Array
  deleted: boolean
}

/** What hole punching needs from the DHT (`lib/dht` `DhtNode` satisfies it). */
export interface PunchDht {
  get(namespace: string, key: Uint8Array, options?: { signal?: AbortSignal }): AsyncIterable<PunchDhtRecord>
  publish(
    namespace: string,
    key: Uint8Array,
    value: Uint8Array,
    options: { keyPair: Ed25519KeyPair; ttlMs: number },
  ): { readonly stored?: Promise<unknown>; withdraw(): Promise<void> }
}

/** Where punch records of one exchange live and how the mapping is learned. */
export interface PunchContext {
  dht: PunchDht
  /** `pairing` for pairings, `presence` for reconnects (namespaces every node already stores). */
  namespace: string
  /** {@link pairingPunchKey} or {@link presencePunchKey}. */
  dhtKey: Uint8Array
  /** The STUN server the mapping is learned from (a bootstrap node answers STUN on its DHT port); null: none. */
  stunServer: Endpoint | null
  signal: AbortSignal
  /** Local address to bind, when the node is bound to one. */
  localAddress?: string
  /** How often the DHT is polled (ms), or a schedule asked before each wait. */
  pollIntervalMs?: number | (() => number)
}

/** How long `context` waits before it polls again. */
function pollInterval(context: PunchContext): number {
  const interval = context.pollIntervalMs ?? POLL_INTERVAL_MS
  return typeof interval === 'number' ? interval : interval()
}

/** A punched connection. */
export interface Punched {
  socket: Socket
  /** Who runs the Noise handshake as initiator (and writes the preamble): the requester. */
  role: 'initiator' | 'responder'
  remote: Endpoint
}

/** Bounds how long {@link RequesterPunch.tellPeer} waits for its `end` record to be stored. */
const TELL_PEER_WAIT_MS = 3_000

/**
 * One hole punch as the requester: per attempt a fresh local port and keys (`newKeys`), a sealed
 * request, polling for the answer, then the simultaneous open. The `end` that tells the responder a
 * failed punch is held back until the caller knows no other path worked: {@link tellPeer}.
 */
export class RequesterPunch {
  readonly #context: PunchContext
  readonly #newKeys: () => PunchKeys
  readonly #core = new PunchRequester()
  readonly #requests: Array<{ withdraw(): Promise<void> }> = []
  #keys: PunchKeys
  #signer = Ed25519KeyPair.generate()
  #end: { message: PunchMessage; counter: number } | null = null

  constructor(context: PunchContext, newKeys: () => PunchKeys) {
    this.#context = context
    this.#newKeys = newKeys
    this.#keys = newKeys()
  }

  /** Resolves with the connection; rejects with `HOLEPUNCH_NO_PATH` or `HOLEPUNCH_NO_ANSWER`. */
  async run(): Promise<Punched> {
    try {
      for (;;) {
        if (this.#context.signal.aborted) throw HolepunchError.noPath('cancelled')
        const action = this.#core.pollAction()
        if (action === undefined)
          await waitForAnswer(this.#context, this.#core, this.#keys, this.#signer.publicKey)
        else if (action.type === 'failed') throw action.error
        else {
          const punched = await this.#act(action)
          if (punched !== null) return punched
        }
      }
    } finally {
      for (const request of this.#requests) request.withdraw().catch(() => {})
    }
  }

  /**
   * The connection {@link run} resolved with was lost before it was secured: the next {@link run} makes
   * the next attempt (or fails, after the last).
   */
  securingFailed(cause: unknown): void {
    this.#core.securingFailed(cause)
  }

  /**
   * Publishes the held-back `end` (or, when the punch was cut short, a `no-path` one under the current
   * attempt's keys) and waits, boundedly, until a node stored it.
   */
  async tellPeer(): Promise<void> {
    const { message, counter } = this.#end ?? {
      message: { t: 'end', n: this.#core.nonce, why: 'no-path' } satisfies PunchMessage,
      counter: 1,
    }
    this.#end = null
    const publication = publish(this.#context, this.#keys, Ed25519KeyPair.generate(), counter, message)
    const waited = sleep(TELL_PEER_WAIT_MS, undefined, { ref: false })
    await Promise.race([publication.stored?.catch(() => {}), waited])
  }

  async #act(action: Exclude<RequesterAction, { type: 'failed' }>): Promise<Punched | null> {
    const core = this.#core
    switch (action.type) {
      case 'prepare':
        if (action.attempt > 1) [this.#keys, this.#signer] = [this.#newKeys(), Ed25519KeyPair.generate()]
        await mappingOf(this.#context).then(
          (mapping) => core.prepared(mapping, Date.now()),
          (err: Error) => core.prepareFailed(HolepunchError.noPath(`no mapping: ${err.message}`, err)),
        )
        return null
      case 'publish':
        if (action.message.t === 'end') this.#end = action
        else
          this.#requests.push(
            publish(this.#context, this.#keys, this.#signer, action.counter, action.message),
          )
        return null
      case 'connect':
        try {
          const { localPort, remote, timeoutMs } = action
          const socket = await simultaneousOpen(localPort, remote, timeoutMs, this.#context.signal)
          core.connected()
          debug('punched to %s:%d (signalling rtt %d ms)', remote.host, remote.port, action.rttMs)
          return { socket, role: core.role, remote }
        } catch (err) {
          core.connectFailed(err)
          return null
        }
    }
  }
}

/** The mapping of a fresh local port, through the context's STUN server. */
function mappingOf(context: PunchContext): Promise<LocalMapping> {
  if (context.stunServer === null)
    return Promise.reject(new Error('no STUN server (no bootstrap node) to learn it from'))
  return learnMapping(context.stunServer, localOptions(context))
}

/** Polls until the core has something to do (an answer, its timeout) or the signal aborts. */
async function waitForAnswer(
  context: PunchContext,
  core: PunchRequester,
  keys: PunchKeys,
  own: Uint8Array,
): Promise<void> {
  while (!context.signal.aborted) {
    const opened = await readMessages(
      context,
      (key) => equalBytes(key, own),
      'responder',
      (salt) => (equalBytes(salt, keys.salt) ? keys : null),
    )
    for (const { message } of opened) core.receive(message, Date.now())
    core.handleTimeout(Date.now())
    const timeout = core.pollTimeout()
    if (timeout === undefined) return
    await sleep(Math.min(pollInterval(context), Math.max(0, timeout - Date.now())), undefined, {
      ref: false,
    })
  }
  throw HolepunchError.noPath('cancelled')
}

/** A message and the keys it opened with. */
interface Opened {
  message: PunchMessage
  keys: PunchKeys
}

/** Every record under the key that opens with `keysFor(salt)` as sent by `from` (others skipped). */
async function readMessages(
  context: PunchContext,
  own: (publicKey: Uint8Array) => boolean,
  from: 'requester' | 'responder',
  keysFor: (salt: Uint8Array) => PunchKeys | null,
): Promise<Opened[]> {
  const opened: Opened[] = []
  try {
    for await (const record of context.dht.get(context.namespace, context.dhtKey, {
      signal: context.signal,
    })) {
      if (record.deleted || own(record.publicKey)) continue
      try {
        const keys = keysFor(recordSalt(record.value))
        if (keys !== null)
          opened.push({ message: openMessage(context.dhtKey, keys, from, record.value), keys })
      } catch (err) {
        debug('skipped a punch record: %s', (err as Error).message)
      }
    }
  } catch (err) {
    if (!context.signal.aborted) debug('punch record lookup failed: %s', (err as Error).message)
  }
  return opened
}

function publish(
  context: PunchContext,
  keys: PunchKeys,
  signer: Ed25519KeyPair,
  counter: number,
  message: PunchMessage,
): ReturnType<PunchDht['publish']> {
  const value = sealMessage(context.dhtKey, keys, counter, message)
  const publication = context.dht.publish(context.namespace, context.dhtKey, value, {
    keyPair: signer,
    ttlMs: RECORD_TTL_MS,
  })
  publication.stored?.catch((err: Error) => debug('punch record not stored: %s', err.message))
  return publication
}

function localOptions(context: PunchContext): { signal: AbortSignal; localAddress?: string } {
  return context.localAddress === undefined
    ? { signal: context.signal }
    : { signal: context.signal, localAddress: context.localAddress }
}

/** What the responder's owner hears. */
export interface ResponderHandlers {
  /** A punched connection; the requester is the Noise initiator. */
  onConnection(punched: Punched): void
  /** The requester gave up (its `end` record): no path, a relay is needed. */
  onEnded(error: HolepunchError): void
  /** A new request was read (before it is answered). */
  onRequest?(): void
}

/** Salts whose keys one responder caches (each costs an X25519 to derive). */
const CACHED_SALTS = 32

/**
 * Answers punch requests until `context.signal` aborts: polls the key, opens new requests with
 * `keysFor(salt)`, answers each with a fresh local port's mapping and connects at once.
 */
export async function respondToPunches(
  context: PunchContext,
  keysFor: (salt: Uint8Array) => PunchKeys,
  handlers: ResponderHandlers,
): Promise<void> {
  const core = new PunchResponder()
  const cache = new Map<string, PunchKeys>()
  const cachedKeys = (salt: Uint8Array): PunchKeys => {
    const id = toHex(salt)
    let keys = cache.get(id)
    if (keys === undefined) {
      keys = keysFor(salt)
      cache.set(id, keys)
      if (cache.size > CACHED_SALTS) cache.delete(cache.keys().next().value as string)
    }
    return keys
  }
  const signers = new Set<string>()
  const publications = new Set<{ withdraw(): Promise<void> }>()
  const own = (key: Uint8Array) => signers.has(toHex(key))
  const run = (keys: PunchKeys): void => {
    for (let action = core.pollAction(); action !== undefined; action = core.pollAction()) {
      switch (action.type) {
        case 'prepare': {
          const { nonce } = action
          handlers.onRequest?.()
          mappingOf(context).then(
            (mapping) => {
              core.prepared(nonce, mapping)
              run(keys)
            },
            (err: Error) => debug('no mapping to answer a punch request: %s', err.message),
          )
          break
        }
        case 'publish': {
          // A signer per answer: two joiners' answers never replace each other's record.
          const signer = Ed25519KeyPair.generate()
          signers.add(toHex(signer.publicKey))
          publications.add(publish(context, keys, signer, action.counter, action.message))
          break
        }
        case 'connect': {
          const { remote } = action
          simultaneousOpen(action.localPort, remote, action.timeoutMs, context.signal).then(
            (socket) => handlers.onConnection({ socket, role: core.role, remote }),
            (err: Error) => debug('punch to %s:%d failed: %s', remote.host, remote.port, err.message),
          )
          break
        }
        case 'ended':
          handlers.onEnded(action.error)
          break
      }
    }
  }
  try {
    while (!context.signal.aborted) {
      for (const { message, keys } of await readMessages(context, own, 'requester', cachedKeys)) {
        core.receive(message, Date.now())
        run(keys)
      }
      await sleep(pollInterval(context), undefined, { ref: false })
    }
  } finally {
    for (const publication of publications) publication.withdraw().catch(() => {})
  }
}
