/** The socket adapter over real loopback TCP and in-memory Duplexes (spec/noise.md §7). */
import { once } from 'node:events'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import t from 'tap'
import { FRAME_TYPE } from '../../lib/channel/constants.js'
import { type OpenChannelOptions, openChannel, type SecureChannel } from '../../lib/channel/index.js'
import { Transport } from '../../lib/channel/transport.js'
import { Ed25519KeyPair, equalBytes, randomBytes, utf8 } from '../../lib/crypto/index.js'
import { deviceIdFromPublicKey } from '../../lib/identity/device-id.js'
import { EPHEMERAL_POOL_SIZE, ephemeralPool } from '../../lib/noise/ephemeral.js'
import { SecureHandshake } from '../../lib/noise/secure-handshake.js'
import { deriveStaticKey } from '../../lib/noise/static-key.js'
import { duplexPair, tcpPair } from './helpers/sockets.js'

const alice = Ed25519KeyPair.generate()
const bob = Ed25519KeyPair.generate()
const unhandled: unknown[] = []
process.on('unhandledRejection', (reason) => unhandled.push(reason))

type Extra = Partial<OpenChannelOptions>

async function open(pair: [Duplex, Duplex], init: Extra = {}, resp: Extra = {}) {
  return Promise.all([
    openChannel(pair[0], { role: 'initiator', identity: alice, ...init }),
    openChannel(pair[1], { role: 'responder', identity: bob, ...resp }),
  ])
}

async function collect(channel: SecureChannel): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for await (const message of channel.messages()) out.push(message)
  return out
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'resolved'
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

t.test('XX over TCP: identities, payloads, messages both ways, graceful close', async (t) => {
  const [a, b] = await open(await tcpPair(), { payload: utf8('join') }, { prologue: undefined })
  t.equal(a.remoteDeviceId, deviceIdFromPublicKey(bob.publicKey))
  t.equal(b.remoteDeviceId, deviceIdFromPublicKey(alice.publicKey))
  t.ok(equalBytes(a.handshakeHash, b.handshakeHash))
  t.same(b.remotePayload, utf8('join'))
  t.equal(a.remotePayload, undefined)
  const fromA = collect(b)
  const fromB = collect(a)
  const big = randomBytes(65518)
  await a.send(utf8('one'))
  await a.send(big)
  await a.send([utf8('in '), big.subarray(0, 1000), utf8(' pieces')])
  await b.send(utf8('reply'))
  a.close()
  const [gotA, gotB] = await Promise.all([fromA, fromB])
  t.same(
    gotA.map((m) => m.length),
    [3, 65518, 1010],
  )
  t.ok(equalBytes(gotA[1]!, big))
  t.ok(equalBytes(gotA[2]!, Buffer.concat([utf8('in '), big.subarray(0, 1000), utf8(' pieces')])))
  t.same(gotB, [utf8('reply')])
  await Promise.all([a.closed, b.closed])
  t.equal(await codeOf(a.send(utf8('late'))), 'CHANNEL_CLOSED')
})

t.test('IK reconnect over TCP with the static key learned from XX', async (t) => {
  const [first, second] = await open(await tcpPair())
  const learned = first.remoteStaticKey
  first.close()
  await Promise.all([first.closed, second.closed])
  t.same(learned, deriveStaticKey(bob).publicKey)
  const [a, b] = await open(
    await tcpPair(),
    {
      pattern: 'IK',
      remoteStaticKey: learned,
      remoteIdentityKey: bob.publicKey,
      prologue: utf8('reconnect'),
    },
    { pattern: 'IK', prologue: utf8('reconnect') },
  )
  t.same(b.remoteIdentityKey, alice.publicKey)
  await a.send(utf8('back'))
  const iterator = b.messages()[Symbol.asyncIterator]()
  t.same((await iterator.next()).value, utf8('back'))
  b.close()
  t.same(await iterator.next(), { value: undefined, done: true })
  await Promise.all([a.closed, b.closed])
})

t.test('stream mode over TCP: 4 MiB with a slow reader, then half-close both ways', async (t) => {
  const [a, b] = await open(await tcpPair())
  const data = randomBytes(4 * 1024 * 1024)
  const sa = a.stream()
  const sb = b.stream()
  const chunks: Buffer[] = []
  let size = 0
  sb.on('data', (chunk: Buffer) => {
    chunks.push(chunk)
    size += chunk.length
    if (size % 7 === 0) {
      sb.pause()
      setTimeout(() => sb.resume(), 1)
    }
  })
  for (let offset = 0; offset < data.length; offset += 100_000) {
    if (!sa.write(data.subarray(offset, offset + 100_000))) await once(sa, 'drain')
  }
  sa.end()
  await once(sb, 'end')
  t.ok(Buffer.concat(chunks).equals(data))
  sb.end(utf8('after half-close'))
  const back: Buffer[] = []
  sa.on('data', (chunk: Buffer) => back.push(chunk))
  await once(sa, 'end')
  t.equal(Buffer.concat(back).toString(), 'after half-close')
  await Promise.all([a.closed, b.closed])
})

t.test('handshakes take ephemeral keys from the pool, refilled once the messages are out', async (t) => {
  while (ephemeralPool.available > 0) ephemeralPool.take()
  ephemeralPool.fill()
  const opening = open(duplexPair())
  t.equal(
    ephemeralPool.available,
    EPHEMERAL_POOL_SIZE - 1,
    'the initiator took its key at once, from the pool',
  )
  const [a, b] = await opening
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(ephemeralPool.available, EPHEMERAL_POOL_SIZE, 'refilled after the handshake messages went out')
  for (const channel of [a, b]) channel.destroy()
})

t.test('over any Duplex (relay case)', async (t) => {
  const [a, b] = await open(duplexPair())
  const got = collect(b)
  await a.send(utf8('via relay'))
  a.close()
  t.same(await got, [utf8('via relay')])
  await Promise.all([a.closed, b.closed])
})

t.test('the wrong peer identity aborts both sides with typed errors', async (t) => {
  const pair = await tcpPair()
  const results = await Promise.all([
    codeOf(openChannel(pair[0], { role: 'initiator', identity: alice, remoteIdentityKey: alice.publicKey })),
    codeOf(openChannel(pair[1], { role: 'responder', identity: bob })),
  ])
  t.same(results, ['NOISE_BAD_IDENTITY', 'CHANNEL_CLOSED'])
})

t.test('a peer that stalls mid-handshake hits the handshake timeout', async (t) => {
  const [client, server] = await tcpPair()
  server.once('data', () => {}) // reads the first message and never answers
  const started = performance.now()
  t.equal(
    await codeOf(openChannel(client, { role: 'initiator', identity: alice, handshakeTimeoutMs: 150 })),
    'CHANNEL_HANDSHAKE_TIMEOUT',
  )
  t.ok(performance.now() - started < 2000)
  await once(server, 'close')
})

t.test('garbage and oversized frames during the handshake are typed errors', async (t) => {
  for (const [bytes, code] of [
    [Buffer.concat([Buffer.from([0, 64]), randomBytes(64)]), 'NOISE_BAD_PAYLOAD'],
    [Buffer.concat([Buffer.from([0, 20]), randomBytes(20)]), 'NOISE_BAD_MESSAGE'],
    [Buffer.from([0xff, 0xff, 1, 2]), 'CHANNEL_FRAME_TOO_LARGE'],
    [Buffer.concat([Buffer.from([0, 200]), randomBytes(10)]), 'CHANNEL_CLOSED'],
  ] as const) {
    const [client, server] = await tcpPair()
    const opening = openChannel(server, { role: 'responder', identity: bob })
    client.end(bytes)
    client.resume()
    t.equal(await codeOf(opening), code, code)
    client.destroy()
  }
})

t.test('a connection cut without a close frame rejects closed with CHANNEL_TRUNCATED', async (t) => {
  const pair = await tcpPair()
  const [a, b] = await open(pair)
  const iterator = b.messages()[Symbol.asyncIterator]()
  ;(pair[0] as Socket).end()
  t.equal(await codeOf(iterator.next()), 'CHANNEL_TRUNCATED')
  t.equal(await codeOf(b.closed), 'CHANNEL_TRUNCATED')
  a.destroy()
  await a.closed
})

t.test(
  'a write waiting for the connection to drain fails with the error that ended the channel',
  async (t) => {
    const pair = await tcpPair()
    const [a, b] = await open(pair)
    // 1 MiB is far over the socket's high-water mark: the write waits for a drain when write() returns.
    const written = new Promise<Error | null | undefined>((resolve) =>
      a.stream().write(randomBytes(1024 * 1024), resolve),
    )
    ;(pair[0] as Socket).destroy()
    const error = await written
    t.equal((error as { code?: string } | null | undefined)?.code, 'CHANNEL_CLOSED')
    t.equal(await codeOf(a.closed), 'CHANNEL_CLOSED')
    b.destroy()
    await b.closed
  },
)

t.test('an idle peer without keepalives hits the idle timeout', async (t) => {
  const [a, b] = await open(await tcpPair(), { idleTimeoutMs: 150 }, { keepaliveMs: 0 })
  t.equal(await codeOf(a.closed), 'CHANNEL_IDLE_TIMEOUT')
  t.equal(await codeOf(b.closed), 'CHANNEL_TRUNCATED', 'the timed-out side sent no close frame')
})

t.test('keepalives hold a quiet channel open past the idle timeout', async (t) => {
  const [a, b] = await open(
    await tcpPair(),
    { idleTimeoutMs: 1200, keepaliveMs: 100 },
    { idleTimeoutMs: 1200, keepaliveMs: 100 },
  )
  await new Promise((resolve) => setTimeout(resolve, 1500))
  await a.send(utf8('still here'))
  const iterator = b.messages()[Symbol.asyncIterator]()
  t.same((await iterator.next()).value, utf8('still here'))
  a.close()
  await Promise.all([a.closed, b.closed])
})

t.test('abort signal, oversized sends and mixed APIs are typed errors', async (t) => {
  const aborted = AbortSignal.abort()
  const [c1, s1] = await tcpPair()
  t.equal(
    await codeOf(openChannel(c1, { role: 'initiator', identity: alice, signal: aborted })),
    'CHANNEL_ABORTED',
  )
  s1.destroy()
  const controller = new AbortController()
  const [c2, s2] = await tcpPair()
  const opening = openChannel(c2, { role: 'initiator', identity: alice, signal: controller.signal })
  controller.abort()
  t.equal(await codeOf(opening), 'CHANNEL_ABORTED')
  s2.destroy()
  const [a, b] = await open(await tcpPair())
  t.equal(await codeOf(a.send(new Uint8Array(65519))), 'CHANNEL_MESSAGE_TOO_LARGE')
  t.equal(await codeOf(a.send([new Uint8Array(65518), Uint8Array.of(0)])), 'CHANNEL_MESSAGE_TOO_LARGE')
  a.messages()
  t.throws(() => a.stream(), { code: 'CHANNEL_MISUSE' })
  const stream = b.stream()
  stream.resume()
  stream.on('end', () => stream.end())
  a.close()
  await Promise.all([a.closed, b.closed])
})

/** A hand-driven peer over a raw socket: finishes XX as initiator, then seals whatever frames a test wants. */
async function rawInitiator(socket: Socket): Promise<Transport> {
  const handshake = new SecureHandshake({ role: 'initiator', identity: alice })
  let buffered = Buffer.alloc(0)
  const arrived = new Promise<void>((resolve) =>
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) resolve()
    }),
  )
  const frame = (message: Uint8Array) => {
    const prefix = Buffer.alloc(2)
    prefix.writeUInt16BE(message.length)
    return Buffer.concat([prefix, message])
  }
  socket.write(frame(handshake.writeMessage()))
  await arrived
  handshake.readMessage(buffered.subarray(2, 2 + buffered.readUInt16BE(0)))
  socket.write(frame(handshake.writeMessage()))
  return new Transport(handshake.result().transport)
}

t.test(
  'a peer that sends after its close frame, or a tampered frame, ends the channel with a typed error',
  async (t) => {
    for (const tamper of [false, true]) {
      const [client, server] = await tcpPair()
      const opening = openChannel(server, { role: 'responder', identity: bob })
      const transport = await rawInitiator(client)
      const channel = await opening
      const iterator = channel.messages()[Symbol.asyncIterator]()
      const data = Buffer.concat(transport.seal(FRAME_TYPE.data, [utf8('one')], 3))
      if (tamper) data[5]! ^= 1
      const close = Buffer.concat(transport.seal(FRAME_TYPE.close, [], 0))
      const late = Buffer.concat(transport.seal(FRAME_TYPE.data, [utf8('late')], 4))
      client.write(tamper ? data : Buffer.concat([data, close, late]))
      client.resume()
      const expected = tamper ? 'NOISE_DECRYPT_FAILED' : 'CHANNEL_PROTOCOL_ERROR'
      t.equal(
        await codeOf(iterator.next()),
        expected,
        'the iterator throws it; undelivered messages are dropped',
      )
      t.equal(await codeOf(channel.closed), expected)
      client.destroy()
    }
  },
)

t.test('no unhandled rejections', async (t) => {
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.same(unhandled, [])
})
