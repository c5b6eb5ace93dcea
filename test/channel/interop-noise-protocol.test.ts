/**
 * Interop with an independent Noise implementation: the `noise-protocol` npm package's HandshakeState and
 * CipherState (libsodium X25519 and ChaCha20-Poly1305), given a SHA-256 hash module built on @noble/hashes
 * through its own dependency-injection factory (it ships BLAKE2b only). A real Noise_XX_25519_ChaChaPoly_SHA256
 * handshake over loopback TCP, then transport messages, with pairctl as initiator and as responder.
 */
import { createRequire } from 'node:module'
import type { Socket } from 'node:net'
import { verifyAsync } from '@noble/ed25519'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { decode } from 'cbor-x'
import t, { type Test } from 'tap'
import { encodeCbor } from '../../lib/cbor.js'
import { openChannel, type SecureChannel } from '../../lib/channel/index.js'
import { concatBytes, Ed25519KeyPair, equalBytes, randomBytes, utf8 } from '../../lib/crypto/index.js'
import { CipherState } from '../../lib/noise/cipher-state.js'
import { tcpPair } from './helpers/sockets.js'

interface KeyPair {
  publicKey: Uint8Array
  secretKey: Uint8Array
}
interface Split {
  tx: Uint8Array
  rx: Uint8Array
}
interface NoiseModule {
  initialize(
    pattern: string,
    initiator: boolean,
    prologue: Uint8Array,
    s?: KeyPair,
  ): { symmetricState: Uint8Array }
  writeMessage(state: unknown, payload: Uint8Array, out: Uint8Array): Split | undefined
  readMessage(state: unknown, message: Uint8Array, out: Uint8Array): Split | undefined
  keygen(): KeyPair
}
interface CipherStateModule {
  STATELEN: number
  initializeKey(state: Uint8Array, key: Uint8Array): void
  encryptWithAd(state: Uint8Array, out: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): void
  decryptWithAd(state: Uint8Array, out: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): void
  rekey(state: Uint8Array): void
}
type Sized = ((...args: never[]) => unknown) & { bytesWritten: number; bytes: number }

const require = createRequire(import.meta.url)
const hashSha256 = {
  HASHLEN: 32,
  BLOCKLEN: 64,
  ALG: 'SHA256',
  hash(out: Uint8Array, data: Uint8Array[]) {
    out.set(sha256(concatBytes(...data)))
  },
  hkdf(out1: Uint8Array, out2: Uint8Array, out3: Uint8Array | null, ck: Uint8Array, ikm: Uint8Array) {
    const temp = hmac(sha256, ck, ikm)
    const o1 = hmac(sha256, temp, Uint8Array.of(1))
    const o2 = hmac(sha256, temp, concatBytes(o1, Uint8Array.of(2)))
    out1.set(o1)
    out2.set(o2)
    out3?.set(hmac(sha256, temp, concatBytes(o2, Uint8Array.of(3))))
  },
}
const cipher = require('noise-protocol/cipher')()
const cipherState: CipherStateModule = require('noise-protocol/cipher-state')({ cipher })
const symmetricState = require('noise-protocol/symmetric-state')({ hash: hashSha256, cipherState })
const noise: NoiseModule = require('noise-protocol/handshake-state')({
  dh: require('noise-protocol/dh')(),
  hash: hashSha256,
  cipher,
  cipherState,
  symmetricState,
})

const prologue = concatBytes(utf8('pairctl/noise/v1'), Uint8Array.of(0), utf8('interop'))
const pairctlIdentity = Ed25519KeyPair.generate()
const peerIdentity = Ed25519KeyPair.generate()

/** Reads 2-byte big-endian length-prefixed frames from a socket. */
function frameReader(socket: Socket): () => Promise<Uint8Array> {
  let buffered = Buffer.alloc(0)
  const waiting: (() => void)[] = []
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk])
    for (const wake of waiting.splice(0)) wake()
  })
  return async function next(): Promise<Uint8Array> {
    while (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0))
      await new Promise<void>((resolve) => waiting.push(resolve))
    const length = buffered.readUInt16BE(0)
    const frame = buffered.subarray(2, 2 + length)
    buffered = buffered.subarray(2 + length)
    return frame
  }
}

function writeFrame(socket: Socket, message: Uint8Array): void {
  const prefix = Buffer.alloc(2)
  prefix.writeUInt16BE(message.length)
  socket.write(Buffer.concat([prefix, message]))
}

/** The independent peer's identity payload: CBOR {identity, sig, app} with sig over label || its Noise static. */
function peerPayload(staticPublicKey: Uint8Array): Uint8Array {
  const sig = peerIdentity.sign(concatBytes(utf8('pairctl/noise-static/v1'), staticPublicKey))
  return encodeCbor({ identity: peerIdentity.publicKey, sig, app: utf8('from noise-protocol') })
}

/** Decodes pairctl's identity payload with cbor-x and checks its signature with @noble/ed25519. */
async function checkPairctlPayload(t: Test, payload: Uint8Array, remoteStatic: Uint8Array): Promise<void> {
  const map = decode(payload) as { identity: Uint8Array; sig: Uint8Array }
  t.same(new Uint8Array(map.identity), pairctlIdentity.publicKey, 'pairctl sent its identity key')
  const message = concatBytes(utf8('pairctl/noise-static/v1'), remoteStatic)
  t.ok(
    await verifyAsync(new Uint8Array(map.sig), message, new Uint8Array(map.identity)),
    'its signature verifies',
  )
}

/** Runs the transport side of the independent peer: echoes data frames reversed, answers the close frame. */
async function echoTransport(socket: Socket, next: () => Promise<Uint8Array>, split: Split): Promise<number> {
  let echoed = 0
  for (;;) {
    const frame = await next()
    const plaintext = new Uint8Array(frame.length - 16)
    cipherState.decryptWithAd(split.rx, plaintext, new Uint8Array(0), frame)
    const reply = new Uint8Array(plaintext.length + 16)
    const body = plaintext[0] === 0 ? Uint8Array.of(0, ...plaintext.subarray(1).reverse()) : plaintext
    cipherState.encryptWithAd(split.tx, reply, new Uint8Array(0), body)
    writeFrame(socket, reply)
    if (plaintext[0] === 2) {
      socket.end()
      return echoed
    }
    echoed++
  }
}

async function exchange(t: Test, channel: SecureChannel): Promise<void> {
  const messages = [utf8('hello'), randomBytes(65518), new Uint8Array(0)]
  const replies = channel.messages()[Symbol.asyncIterator]()
  for (const message of messages) {
    await channel.send(message)
    const reply = await replies.next()
    t.ok(
      equalBytes(reply.value as Uint8Array, Uint8Array.from(message).reverse()),
      `echo of ${message.length} bytes`,
    )
  }
  channel.close()
  t.same(await replies.next(), { value: undefined, done: true })
  await channel.closed
}

function handshakeHash(state: { symmetricState: Uint8Array }): Uint8Array {
  const out = new Uint8Array(32)
  symmetricState.getHandshakeHash(state.symmetricState, out)
  return out
}

t.test('pairctl initiator, noise-protocol responder', async (t) => {
  const [client, server] = await tcpPair()
  const s = noise.keygen()
  const peer = noise.initialize('XX', false, prologue, s)
  const next = frameReader(server)
  const opening = openChannel(client, {
    role: 'initiator',
    identity: pairctlIdentity,
    prologue: utf8('interop'),
  })
  noise.readMessage(peer, await next(), new Uint8Array(0))
  const out = new Uint8Array(1024)
  noise.writeMessage(peer, peerPayload(s.publicKey), out)
  writeFrame(server, out.subarray(0, (noise.writeMessage as unknown as Sized).bytes))
  const third = await next()
  const payload = new Uint8Array(third.length)
  const split = noise.readMessage(peer, third, payload)!
  const remoteStatic = (peer as unknown as { rs: Uint8Array }).rs
  await checkPairctlPayload(
    t,
    payload.subarray(0, (noise.readMessage as unknown as Sized).bytes),
    remoteStatic,
  )
  const channel = await opening
  t.same(channel.remoteIdentityKey, peerIdentity.publicKey)
  t.same(channel.remotePayload, utf8('from noise-protocol'))
  t.same(channel.remoteStaticKey, new Uint8Array(s.publicKey))
  t.ok(equalBytes(channel.handshakeHash, handshakeHash(peer)), 'same handshake hash')
  const echoing = echoTransport(server, next, split)
  await exchange(t, channel)
  t.equal(await echoing, 3)
})

t.test('noise-protocol initiator, pairctl responder', async (t) => {
  const [client, server] = await tcpPair()
  const s = noise.keygen()
  const peer = noise.initialize('XX', true, prologue, s)
  const next = frameReader(client)
  const opening = openChannel(server, {
    role: 'responder',
    identity: pairctlIdentity,
    prologue: utf8('interop'),
  })
  const out = new Uint8Array(1024)
  noise.writeMessage(peer, new Uint8Array(0), out)
  writeFrame(client, out.subarray(0, (noise.writeMessage as unknown as Sized).bytes))
  const second = await next()
  const payload = new Uint8Array(second.length)
  noise.readMessage(peer, second, payload)
  const remoteStatic = (peer as unknown as { rs: Uint8Array }).rs
  await checkPairctlPayload(
    t,
    payload.subarray(0, (noise.readMessage as unknown as Sized).bytes),
    remoteStatic,
  )
  const split = noise.writeMessage(peer, peerPayload(s.publicKey), out)!
  writeFrame(client, out.subarray(0, (noise.writeMessage as unknown as Sized).bytes))
  const channel = await opening
  t.same(channel.remoteIdentityKey, peerIdentity.publicKey)
  t.ok(equalBytes(channel.handshakeHash, handshakeHash(peer)), 'same handshake hash')
  const echoing = echoTransport(client, next, split)
  await exchange(t, channel)
  t.equal(await echoing, 3)
})

t.test('Rekey agrees with noise-protocol', async (t) => {
  const key = randomBytes(32)
  const theirs = new Uint8Array(cipherState.STATELEN)
  cipherState.initializeKey(theirs, key)
  cipherState.rekey(theirs)
  const ours = new CipherState()
  ours.initializeKey(key)
  ours.rekey()
  const plaintext = randomBytes(50)
  const sealed = new Uint8Array(66)
  cipherState.encryptWithAd(theirs, sealed, new Uint8Array(0), plaintext)
  t.same(ours.encryptWithAd(new Uint8Array(0), plaintext), sealed)
})
