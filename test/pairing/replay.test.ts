/**
 * Pairing attacks that reuse real traffic (issue 17, item 3): replaying a recorded pairing to either
 * side, reflecting a joiner's own messages back at it, and a downgrade to the v1 pairing handshake.
 * Each plays the attacker with real sockets and asserts on what it got and what the devices did.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { connect as netConnect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { openChannel } from '../../lib/channel/index.js'
import { Ed25519KeyPair, sha256, utf8, X25519KeyPair } from '../../lib/crypto/index.js'
import {
  type AdvertAddress,
  decodeMessage,
  encodeAdvert,
  encodeMessage,
  joinPairing,
  openPairingChannel,
  type PairingEvent,
  parseCode,
  type RandomSource,
  rendezvousKey,
  tcpConnect,
  UsedCodeStore,
} from '../../lib/pairing/index.js'
import { identity, listen, MemoryDht, startAdvertiser } from './helpers/fakes.js'

type Teardown = { teardown(fn: () => unknown): void }
const bob = { name: 'bob', type: 'mobile' }

/** A deterministic byte stream: two sessions given the same seed draw the same code, keys and scalars. */
function seededRandom(seed: string): RandomSource {
  let block = 0
  return (length) => {
    const out = new Uint8Array(length)
    for (let at = 0; at < length; at += 32)
      out.set(sha256(utf8(`${seed}/${block++}`)).subarray(0, length - at), at)
    return out
  }
}

/** A TCP proxy to `port` that records each direction's bytes, as an on-path observer would. */
async function recordingProxy(t: Teardown, port: number) {
  const { server, port: proxyPort } = await listen(t)
  const recorded = { toAdvertiser: [] as Buffer[], toJoiner: [] as Buffer[] }
  server.on('connection', (downstream: Socket) => {
    const upstream = netConnect(port, '127.0.0.1')
    downstream.on('data', (chunk: Buffer) => recorded.toAdvertiser.push(chunk))
    upstream.on('data', (chunk: Buffer) => recorded.toJoiner.push(chunk))
    downstream.pipe(upstream).pipe(downstream)
    for (const [a, b] of [
      [downstream, upstream],
      [upstream, downstream],
    ] as const) {
      a.on('error', () => b.destroy())
      a.on('close', () => b.destroy())
    }
  })
  return { port: proxyPort, recorded }
}

/** Pairs through a recording proxy; returns what the joiner sent and what the advertiser sent. */
async function recordedPairing(t: Teardown, seed: string) {
  const first = await startAdvertiser(t, { random: seededRandom(seed) })
  const proxy = await recordingProxy(t, first.port)
  const joiner = joinPairing({
    identity: identity(),
    dht: first.dht,
    code: first.advertiser.code,
    deviceInfo: bob,
    connect: (_address, signal) =>
      tcpConnect({ host: '127.0.0.1', port: proxy.port, transport: 'tcp' }, signal),
  })
  await Promise.all([joiner.result, first.advertiser.result])
  return { code: first.advertiser.code, recorded: proxy.recorded }
}

/**
 * Replays a recorded joiner to 127.0.0.1:`port`: its first chunk, then (once answered) the rest, as the
 * recording had them; resolves with everything received until the peer closes.
 */
function replayTo(port: number, chunks: Buffer[]): Promise<Buffer> {
  return new Promise((resolve) => {
    const received: Buffer[] = []
    const socket = netConnect(port, '127.0.0.1', () => socket.write(chunks[0]!))
    socket.once('data', () => socket.write(Buffer.concat(chunks.slice(1))))
    socket.on('data', (chunk: Buffer) => received.push(chunk))
    socket.on('error', () => {})
    socket.on('close', () => resolve(Buffer.concat(received)))
  })
}

/** Collects a session's events as they happen. */
function collect(events: AsyncIterable<PairingEvent>): PairingEvent[] {
  const into: PairingEvent[] = []
  void (async () => {
    for await (const event of events) into.push(event)
  })()
  return into
}

t.test(
  'replay: a recorded joiner, replayed to an advertiser repeating every random choice, fails in Noise and costs nothing',
  async (t) => {
    const seed = 'replayed-joiner'
    const { code, recorded } = await recordedPairing(t, seed)
    // The same seed: the same code, advert key and CPace scalars. Only the Noise keys are fresh.
    const second = await startAdvertiser(t, { random: seededRandom(seed) })
    t.equal(second.advertiser.code, code, 'the victim repeats the recorded session exactly')
    const events = collect(second.advertiser.events)
    const answer = await replayTo(second.port, recorded.toAdvertiser)
    t.ok(answer.length > 0, 'the advertiser answered the replayed first handshake message')
    t.notOk(
      events.some((e) => e.type === 'peer-connected' || e.type === 'attempt-failed'),
      'the replay never got past Noise: no pairing message read, no attempt spent',
    )
    const real = joinPairing({ identity: identity(), dht: second.dht, code, deviceInfo: bob })
    t.equal((await real.result).name, 'alice-laptop', 'the code still pairs the real joiner')
    t.equal((await second.advertiser.result).name, 'bob')
  },
)

t.test(
  'replay: a recorded advertiser, replayed to a joiner with the same code, fails in Noise before any tag',
  async (t) => {
    const { code, recorded } = await recordedPairing(t, 'replayed-advertiser')
    const dht = new MemoryDht()
    const { server, port } = await listen(t)
    const joinerSent: Buffer[] = []
    server.on('connection', (socket: Socket) => {
      socket.on('data', (chunk: Buffer) => joinerSent.push(chunk))
      socket.on('error', () => {})
      // Each recorded chunk follows one of the joiner's, as in the recording.
      socket.once('data', () => socket.write(Buffer.concat(recorded.toJoiner)))
    })
    await publishAdvertFor(dht, code, port)
    const dir = await mkdtemp(join(tmpdir(), 'pairctl-replay-'))
    t.teardown(() => rm(dir, { recursive: true }))
    const usedCodes = await UsedCodeStore.open(dir)
    const joiner = joinPairing({ identity: identity(), dht, code, deviceInfo: bob, usedCodes })
    await t.rejects(joiner.result, { code: 'PAIRING_UNREACHABLE' }, 'a handshake that fails is no answer')
    t.notOk(usedCodes.has(parseCode(code)), 'no tag was sent, so the code is not used up')
    const recordedJoiner = Buffer.concat(recorded.toAdvertiser)
    t.ok(
      Buffer.concat(joinerSent).length < recordedJoiner.length / 2,
      'the joiner sent its first handshake message and stopped',
    )
  },
)

/** An advert under `code`'s rendezvous key pointing at 127.0.0.1:`port`, published by a fresh key. */
async function publishAdvertFor(dht: MemoryDht, code: string, port: number): Promise<void> {
  const keyPair = Ed25519KeyPair.generate()
  const key = rendezvousKey(parseCode(code))
  const addresses: AdvertAddress[] = [{ host: '127.0.0.1', port, transport: 'tcp' }]
  await dht.publish('pairing', key, encodeAdvert(key, keyPair, addresses, Date.now() + 60_000), {
    keyPair,
    ttlMs: 60_000,
  })
}

t.test(
  "reflection: an impostor answering with the joiner's own share and tag gets no accept and no identity",
  async (t) => {
    const dht = new MemoryDht()
    const code = 'abandon ability able about absent'
    const { server, port } = await listen(t)
    const seenTypes: string[] = []
    const received: Buffer[] = []
    server.on('connection', async (socket: Socket) => {
      socket.on('data', (chunk: Buffer) => received.push(chunk))
      const channel = await openPairingChannel(socket, { role: 'responder' })
      try {
        for await (const message of channel.messages()) {
          const decoded = decodeMessage(message)
          seenTypes.push(decoded.type)
          if (decoded.type === 'hello')
            await channel.send(encodeMessage({ v: 2, type: 'share', share: decoded.share }))
          if (decoded.type === 'confirm')
            await channel.send(encodeMessage({ v: 2, type: 'confirm', mac: decoded.mac }))
        }
      } catch {
        // The test ends and cuts the connection under the impostor's open channel.
      }
    })
    await publishAdvertFor(dht, code, port)
    const me = identity()
    const joiner = joinPairing({ identity: me, dht, code, deviceInfo: bob })
    const error = await joiner.result.catch((err: unknown) => err)
    t.match(error, { code: 'PAIRING_WRONG_CODE' }, 'the reflected tag is refused')
    t.notOk(seenTypes.includes('accept'), `no accept was sent (saw ${seenTypes.join(', ')})`)
    // A reflected share is just a share for a password the impostor does not know (K = ya·Ya needs ya),
    // so the joiner's one tag for it is the one guess any decoy gets (`spec/pairing.md` §12, Decoys).
    const all = Buffer.concat(received)
    for (const key of [me.publicKey, me.noiseKeyPair.publicKey])
      t.equal(all.indexOf(Buffer.from(key)), -1, 'no long-term key of the joiner')
  },
)

t.test(
  'downgrade: a joiner speaking the v1 pairing handshake fails at the first encrypted message',
  async (t) => {
    const { dht, port, alice, advertiser } = await startAdvertiser(t)
    const events = collect(advertiser.events)
    const socket = await tcpConnect(
      { host: '127.0.0.1', port, transport: 'tcp' },
      new AbortController().signal,
    )
    const received: Buffer[] = []
    socket.on('data', (chunk: Buffer) => received.push(chunk))
    // v1's prologue purpose was "pairctl/pairing/v1"; v2 binds "pairctl/pairing/v2" into every handshake hash.
    const v1 = openChannel(socket, {
      role: 'initiator',
      pattern: 'XX',
      staticKey: X25519KeyPair.generate(),
      prologue: utf8('pairctl/pairing/v1'),
      handshakeTimeoutMs: 5_000,
    })
    await t.rejects(v1, 'the handshake does not complete across versions')
    t.notOk(
      events.some((e) => e.type === 'peer-connected' || e.type === 'attempt-failed'),
      'the advertiser read no pairing message and spent no attempt',
    )
    const all = Buffer.concat(received)
    for (const key of [alice.publicKey, alice.noiseKeyPair.publicKey])
      t.equal(all.indexOf(Buffer.from(key)), -1, 'nothing long-term of the advertiser')
    const real = joinPairing({ identity: identity(), dht, code: advertiser.code, deviceInfo: bob })
    t.equal((await real.result).name, 'alice-laptop', 'the code still pairs a real joiner')
  },
)
