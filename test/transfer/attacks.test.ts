import { randomBytes } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { encodeCbor } from '../../lib/cbor.js'
import { toHex } from '../../lib/crypto/index.js'
import { Identity } from '../../lib/identity/index.js'
import { PairedDeviceStore } from '../../lib/pairing/store.js'
import {
  encodeManifest,
  type Manifest,
  manifestRoot,
  scanSources,
  transferConstants,
} from '../../lib/transfer/index.js'
import { ioError } from '../../lib/transfer/store.js'
import { type Device, online, pairedDevices, startDevice } from './helpers/devices.js'
import { fileHash, finalState, randomFile } from './helpers/files.js'

const { CHUNK_SIZE } = transferConstants

type Ranges = [number, number, number][]
/** How the fake sender answers one `get` for chunks: the bytes to write, in order. */
type Serve = (attempt: number, data: Buffer, ranges: Ranges) => Buffer

/**
 * Device `a` plays a sender that breaks the protocol: it offers `manifest` (root computed honestly over
 * the bytes, unless `root` is given) and answers each `get` for chunks with what `serve` returns.
 */
async function fakeSender(
  t: Parameters<typeof pairedDevices>[0],
  options: {
    size?: number
    manifest?: (m: Manifest) => Manifest
    root?: Uint8Array
    serve?: Serve
    /** Runs on the receiver before the offer is made. */
    beforeOffer?: (b: Device) => void
  },
) {
  const env = await pairedDevices(t)
  const a = await env.start('a')
  const b = await env.start('b')
  const toB = env.ids.b.deviceId
  await online(a.links, toB)
  await online(b.links, env.ids.a.deviceId)
  const file = join(env.root, 'f.bin')
  await randomFile(file, options.size ?? 3 * CHUNK_SIZE)
  const data = await readFile(file)
  const scanned = await scanSources([file])
  const manifest = (options.manifest ?? ((m) => m))(scanned.manifest)
  const bytes = encodeManifest(manifest)
  const id = randomBytes(16)
  const answers: { state: string; code?: string }[] = []
  a.streams.handleRequests('answer', async (_device, body) => {
    answers.push(body as { state: string; code?: string })
    return {}
  })
  let attempt = 0
  a.streams.handleRequests('get', async (_device, body) => {
    const get = body as { nonce: number; manifest?: boolean; chunks?: Ranges }
    const stream = a.streams.mux(toB)!.open(encodeCbor({ t: 'part', id, nonce: get.nonce }))
    const out =
      get.manifest === true ? Buffer.from(bytes) : (options.serve ?? honest)(attempt++, data, get.chunks!)
    void stream.write(out).then(
      () => stream.end(),
      () => {},
    )
    return {}
  })
  options.beforeOffer?.(b)
  await a.streams.request(toB, {
    t: 'offer',
    id,
    root: options.root ?? manifestRoot(bytes),
    size: bytes.length,
  })
  return { env, a, b, id: toHex(id), file, answers, downloads: join(env.dirs.b, 'downloads') }
}

/** The requested chunks, as an honest sender sends them. */
function honest(_attempt: number, data: Buffer, ranges: Ranges): Buffer {
  return Buffer.concat(
    ranges.flatMap(([, first, count]) =>
      Array.from({ length: count }, (_, i) =>
        data.subarray((first + i) * CHUNK_SIZE, (first + i + 1) * CHUNK_SIZE),
      ),
    ),
  )
}

async function incoming(b: Device, id: string) {
  for (let i = 0; i < 400 && !b.transfers.entries.has(id); i++) await new Promise((r) => setTimeout(r, 50))
  return finalState(b.transfers.follow(id))
}

t.test('a chunk that fails its hash is never written and is asked for again', async (t) => {
  const { b, id, file, downloads } = await fakeSender(t, {
    serve: (attempt, data, ranges) => {
      const out = Buffer.from(honest(attempt, data, ranges))
      if (attempt === 0) out[CHUNK_SIZE + 5]! ^= 0xff
      return out
    },
  })
  const done = await incoming(b, id)
  t.equal(done.state, 'done')
  t.equal(b.transfers.receiver.counters.badChunks, 1, 'the bad chunk was caught')
  t.equal(await fileHash(join(downloads, 'f.bin')), await fileHash(file), 'the file is the committed one')
})

t.test('more bytes than requested are refused; what arrived verified is kept', async (t) => {
  const { b, id, file, downloads } = await fakeSender(t, {
    serve: (attempt, data, ranges) =>
      attempt === 0
        ? Buffer.concat([honest(attempt, data, ranges), randomBytes(1000)])
        : honest(attempt, data, ranges),
  })
  const done = await incoming(b, id)
  t.equal(done.state, 'done')
  t.ok(b.transfers.receiver.counters.unrequested >= 1, 'the extra bytes were refused')
  t.equal(await fileHash(join(downloads, 'f.bin')), await fileHash(file))
})

t.test(
  'a declared size larger than what arrives fails the transfer, nothing reaches downloads',
  async (t) => {
    const { b, id, answers, downloads } = await fakeSender(t, {
      serve: (attempt, data, ranges) => honest(attempt, data, ranges).subarray(0, CHUNK_SIZE / 2),
    })
    const failed = await incoming(b, id)
    t.equal(failed.state, 'failed')
    t.equal(failed.error?.code, 'TRANSFER_SOURCE_CHANGED')
    t.same(await readdir(downloads).catch(() => []), [], 'no file and no partial left')
    // The first answer says 'active' (the offer was filed); the verdict follows it.
    for (let i = 0; i < 100 && answers.at(-1)?.state !== 'failed'; i++)
      await new Promise((r) => setTimeout(r, 50))
    t.match(answers.at(-1), { state: 'failed', code: 'TRANSFER_SOURCE_CHANGED' }, 'the sender is told why')
  },
)

t.test('a manifest that does not match the committed root is refused before any data', async (t) => {
  const { b, answers } = await fakeSender(t, { root: new Uint8Array(32).fill(7) })
  for (let i = 0; i < 400 && answers.length === 0; i++) await new Promise((r) => setTimeout(r, 50))
  t.equal(answers[0]?.state, 'failed')
  t.equal(answers[0]?.code, 'TRANSFER_BAD_OFFER', 'the sender is told why')
  t.same(b.transfers.list(), [], 'nothing was filed')
})

t.test('an offer that cannot be filed (the disk fills after its manifest) leaves no state', async (t) => {
  const { b, answers, env } = await fakeSender(t, {
    beforeOffer: (b) => {
      b.transfers.store.save = async () => {
        throw ioError('cannot save transfer state', Object.assign(new Error('no space'), { code: 'ENOSPC' }))
      }
    },
  })
  for (let i = 0; i < 400 && answers.length === 0; i++) await new Promise((r) => setTimeout(r, 50))
  t.match(answers[0], { state: 'failed', code: 'TRANSFER_DISK_FULL' }, 'the sender is told why')
  t.same(b.transfers.list(), [], 'nothing was filed')
  t.same(await readdir(join(env.dirs.b, 'transfers')), [], 'no manifest (and no temporary file) is left')
})

for (const [path, what] of [
  ['../escape.bin', 'a ".." component'],
  ['/etc/cron.d/evil', 'an absolute path'],
  ['nul\u0000byte', 'a NUL'],
  ['con.txt', 'a reserved name'],
])
  t.test(`a manifest with ${what} is refused with TRANSFER_BAD_PATH, nothing written`, async (t) => {
    const { b, answers, env } = await fakeSender(t, {
      manifest: (m) => ({ ...m, files: m.files.map((file) => ({ ...file, path: path! })) }),
    })
    for (let i = 0; i < 400 && answers.length === 0; i++) await new Promise((r) => setTimeout(r, 50))
    t.equal(answers[0]?.state, 'failed')
    t.equal(answers[0]?.code, 'TRANSFER_BAD_PATH')
    t.same(b.transfers.list(), [])
    t.same(await readdir(join(env.dirs.b, 'downloads')).catch(() => []), [])
  })

t.test('a stream nobody asked for is stopped and counted', async (t) => {
  const { env, a, b } = await fakeSender(t, {})
  const stream = a.streams
    .mux(env.ids.b.deviceId)!
    .open(encodeCbor({ t: 'part', id: randomBytes(16), nonce: 999 }))
  await stream.write(randomBytes(5000)).catch(() => {})
  const stopped = await stream.done
  t.equal(stopped?.code, 'TRANSFER_UNREQUESTED')
  t.ok(b.transfers.receiver.counters.unrequested >= 1)
})

t.test('an unpaired device cannot link, so it cannot offer anything', async (t) => {
  const env = await pairedDevices(t)
  const b = await env.start('b')
  const stranger = Identity.generate()
  const dir = join(env.root, 'stranger')
  const store = await PairedDeviceStore.open(dir)
  await store.add({
    deviceId: env.ids.b.deviceId,
    identityKey: env.ids.b.publicKey,
    name: 'b',
    type: 'test',
    pairedAt: Date.now(),
    addresses: [{ host: '127.0.0.1', port: b.port, transport: 'tcp' }],
    presenceSecret: env.secret,
  })
  const c = await startDevice(env.dht, stranger, dir)
  t.teardown(() => c.stop())
  c.links.start()
  t.equal(b.links.isOnline(stranger.deviceId), false, 'b keeps no link to a device it is not paired with')
  await t.rejects(c.streams.request(env.ids.b.deviceId, { t: 'offer' }), { code: 'STREAM_LINK_CLOSED' })
  t.same(b.transfers.list(), [])
})
