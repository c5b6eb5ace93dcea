import { access, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { transferConstants } from '../../lib/transfer/index.js'
import { online, pairedDevices } from './helpers/devices.js'
import { changed, fileHash, finalState, makeTree, randomFile, treeHashes } from './helpers/files.js'

const MiB = 1024 * 1024
const { STREAM_WINDOW, CHUNK_SIZE } = transferConstants

async function linked(t: Parameters<typeof pairedDevices>[0], options?: Parameters<typeof pairedDevices>[1]) {
  const env = await pairedDevices(t, options)
  const a = await env.start('a')
  const b = await env.start('b')
  await online(a.links, env.ids.b.deviceId)
  await online(b.links, env.ids.a.deviceId)
  return { env, a, b, toB: env.ids.b.deviceId, toA: env.ids.a.deviceId }
}

t.test(
  'a 100 MB file and a directory tree arrive identical; messages flow during the transfer',
  async (t) => {
    const { env, a, b, toB } = await linked(t)
    const big = join(env.root, 'big.bin')
    await randomFile(big, 100 * 1000 * 1000)
    const tree = join(env.root, 'tree')
    await makeTree(tree)
    const sent = await a.transfers.send(toB, [big, tree])
    await changed(b.transfers, (info) => info.id === sent.id && info.transferred >= 2 * MiB)
    const during: boolean[] = []
    const chatting = (async () => {
      for (let i = 0; i < 5; i++) {
        await a.messages.send(toB, `message ${i}`)
        during.push(b.transfers.list()[0]?.state === 'active')
      }
    })()
    const done = await finalState(a.transfers.follow(sent.id))
    await chatting
    t.equal(done.state, 'done')
    const downloads = join(env.dirs.b, 'downloads')
    t.equal(await fileHash(join(downloads, 'big.bin')), await fileHash(big), 'the 100 MB file is identical')
    t.same(await treeHashes(join(downloads, 'tree')), await treeHashes(tree), 'the tree is identical')
    await access(join(downloads, 'tree', 'empty-dir'))
    t.same(
      b.received.map((m) => m.text),
      Array.from({ length: 5 }, (_, i) => `message ${i}`),
      'every message arrived once, in order',
    )
    t.same(during, [true, true, true, true, true], 'each message was acknowledged while the transfer ran')
    const received = b.transfers.list()[0]!
    t.equal(received.root, done.root, 'both sides show the same root')
    t.equal(received.state, 'done')
    t.same(await readdir(downloads), ['big.bin', 'tree'], 'no partial files are left')
  },
)

t.test('an existing file is never overwritten: the copy gets a free name', async (t) => {
  const { env, a, toB } = await linked(t)
  const file = join(env.root, 'report.pdf')
  await writeFile(file, 'new content')
  const downloads = join(env.dirs.b, 'downloads')
  await access(env.dirs.b)
  await import('node:fs/promises').then((fs) => fs.mkdir(downloads, { recursive: true }))
  await writeFile(join(downloads, 'report.pdf'), 'old content')
  const sent = await a.transfers.send(toB, [file])
  t.equal((await finalState(a.transfers.follow(sent.id))).state, 'done')
  t.equal(await fileHash(join(downloads, 'report.pdf')), await fileHash(await tmp('old content', env.root)))
  t.equal(await fileHash(join(downloads, 'report (1).pdf')), await fileHash(file))
})

async function tmp(content: string, dir: string): Promise<string> {
  const path = join(dir, `expected-${Math.random()}`)
  await writeFile(path, content)
  return path
}

t.test(
  'with the ask policy an offer waits in the inbox: reject tells the sender, accept runs it',
  async (t) => {
    const { env, a, b, toB } = await linked(t, { b: { policy: 'ask' } })
    const file = join(env.root, 'f.bin')
    await randomFile(file, 3 * MiB)
    const incoming = new Promise<string>((resolve) =>
      b.transfers.once('incoming', (info) => resolve(info.id)),
    )
    const first = await a.transfers.send(toB, [file])
    const firstId = await incoming
    t.equal(firstId, first.id)
    t.equal(b.transfers.find(firstId).record.state, 'pending', 'waiting for a decision')
    await changed(a.transfers, (info) => info.id === first.id && info.state === 'pending')
    await b.transfers.reject(firstId)
    const rejected = await finalState(a.transfers.follow(first.id))
    t.equal(rejected.state, 'rejected', 'the sender learns of the rejection')
    const offered = new Promise<string>((resolve) => b.transfers.once('incoming', (info) => resolve(info.id)))
    const second = await a.transfers.send(toB, [file])
    await b.transfers.accept(await offered)
    t.equal((await finalState(a.transfers.follow(second.id))).state, 'done')
    t.equal(await fileHash(join(env.dirs.b, 'downloads', 'f.bin')), await fileHash(file))
  },
)

t.test('a sender cancels mid-transfer: the receiver stops and deletes its partial files', async (t) => {
  const { env, a, b, toB } = await linked(t)
  const file = join(env.root, 'f.bin')
  await randomFile(file, 60 * MiB)
  const sent = await a.transfers.send(toB, [file])
  await changed(b.transfers, (info) => info.id === sent.id && info.transferred >= 4 * MiB)
  await a.transfers.cancel(sent.id)
  const atB = await finalState(b.transfers.follow(sent.id))
  t.equal(atB.state, 'cancelled')
  t.same(await readdir(join(env.dirs.b, 'downloads')), [], 'nothing left in downloads')
})

t.test(
  'the receiver restarts mid-transfer: it resumes from its verified chunks and the file is identical',
  async (t) => {
    const { env, a, b, toB } = await linked(t)
    const file = join(env.root, 'f.bin')
    const size = 200 * MiB + 123
    await randomFile(file, size)
    const sent = await a.transfers.send(toB, [file])
    await changed(b.transfers, (info) => info.id === sent.id && info.transferred >= 15 * MiB)
    await b.stop()
    const b2 = await env.start('b')
    const restored = b2.transfers.find(sent.id)
    t.ok(restored.transferred >= 15 * MiB, `restored ${restored.transferred} verified bytes`)
    t.equal(restored.record.state, 'paused')
    const done = await finalState(b2.transfers.follow(sent.id))
    t.equal(done.state, 'done')
    t.equal(await fileHash(join(env.dirs.b, 'downloads', 'f.bin')), await fileHash(file))
    const chunks = Math.ceil(size / CHUNK_SIZE)
    const resent = a.transfers.sender.counters.chunksSent - chunks
    t.ok(resent <= STREAM_WINDOW / CHUNK_SIZE + 1, `${resent} chunk(s) sent twice: at most those in flight`)
  },
)

t.test('the sender restarts mid-transfer: the receiver gets the rest once it is back', async (t) => {
  const { env, a, b, toB } = await linked(t)
  const file = join(env.root, 'f.bin')
  // Large enough that a stops well before the last chunk left (loopback moves about 150 MB/s).
  await randomFile(file, 200 * MiB)
  const sent = await a.transfers.send(toB, [file])
  await changed(b.transfers, (info) => info.id === sent.id && info.transferred >= 8 * MiB)
  // b may pause while a is still stopping, so the wait starts first.
  const stopped = changed(
    b.transfers,
    (info) => info.id === sent.id && ['paused', 'done'].includes(info.state),
  )
  await a.stop()
  t.equal((await stopped).state, 'paused', 'b paused mid-transfer')
  const a2 = await env.start('a')
  t.equal(a2.transfers.find(sent.id).record.state, 'paused', 'the sender restored the transfer')
  const done = await finalState(b.transfers.follow(sent.id))
  t.equal(done.state, 'done')
  t.equal(await fileHash(join(env.dirs.b, 'downloads', 'f.bin')), await fileHash(file))
  t.equal((await finalState(a2.transfers.follow(sent.id))).state, 'done', 'the sender learns it is done')
})
