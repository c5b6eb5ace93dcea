import { open, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { transferConstants } from '../../lib/transfer/index.js'
import { startCli } from '../cli/helpers/cli.js'
import { instanceDir, linked, pairedDaemons, transferEvent } from './helpers/daemons.js'
import { fileHash, randomFile } from './helpers/files.js'

const MiB = 1024 * 1024
const { CHUNK_SIZE } = transferConstants
// Large enough that a kill lands mid-way even when the progress events (every 200 ms) lag behind.
const SIZE = 160 * MiB + 12_345
// The daemons pair through a DHT on loopback and find each other again after a restart.
t.setTimeout(240_000)

/** Bytes of the chunks of `partial` that equal the same chunk of `source` (what a restart can keep). */
async function verifiedBytes(partial: string, source: string): Promise<number> {
  const [a, b] = [await open(partial, 'r'), await open(source, 'r')]
  try {
    const [x, y] = [Buffer.alloc(CHUNK_SIZE), Buffer.alloc(CHUNK_SIZE)]
    let total = 0
    for (let at = 0; ; at += CHUNK_SIZE) {
      const want = (await b.read(y, 0, CHUNK_SIZE, at)).bytesRead
      if (want === 0) return total
      const got = (await a.read(x, 0, want, at)).bytesRead
      if (got === want && x.subarray(0, got).equals(y.subarray(0, want))) total += want
    }
  } finally {
    await Promise.all([a.close(), b.close()])
  }
}

/** A point in the transfer to stop at: somewhere in its first 10-60 %, logged so a failure can be replayed. */
function killPoint(t: { comment(message: string): void }): number {
  const at = Math.floor(SIZE * (0.1 + Math.random() * 0.5))
  t.comment(`stopping at ${at} of ${SIZE} bytes`)
  return at
}

t.test(
  'kill -9 of the receiving daemon mid-transfer: restarted, it completes the file identical and no verified chunk is sent again',
  async (t) => {
    const daemons = await pairedDaemons(t)
    const file = join(daemons.home, 'f.bin')
    await randomFile(file, SIZE)
    const alice = await daemons.connect('alice')
    const bob = await daemons.connect('bob')
    const send = startCli(t, daemons.home, ['--instance', 'alice', 'send', 'bob', '--file', file, '--json'])
    const at = killPoint(t)
    const partial = await transferEvent(bob, (info) => info.transferred >= at)
    await daemons.kill('bob')
    t.ok(partial.transferred < SIZE, `killed with ${partial.transferred} bytes verified`)
    const downloads = join(instanceDir(daemons.home, 'bob'), 'downloads')
    t.same(await readdir(downloads), ['.pairctl-partial'], 'nothing under the final name, only the partial')
    const onDisk = await verifiedBytes(join(downloads, '.pairctl-partial', partial.id, '0.part'), file)
    t.ok(onDisk >= partial.transferred, `every byte reported verified is on disk (${onDisk})`)
    const { transfers } = await alice.request('transfers.list', {})
    const sentBeforeRestart = transfers.find((info) => info.id === partial.id)!.sentBytes!

    await daemons.start('bob')
    const done = await send.waitFor((record) => record.type !== 'progress', 180_000)
    t.equal(done.type, 'done', 'the sender follows the transfer to its end')
    t.equal(await fileHash(join(downloads, 'f.bin')), await fileHash(file), 'the file is identical')
    t.same(await readdir(downloads), ['f.bin'], 'the partial is gone')
    const after = (await alice.request('transfers.list', {})).transfers.find(
      (info) => info.id === partial.id,
    )!
    const resent = after.sentBytes! - SIZE
    const inFlight = sentBeforeRestart - onDisk
    t.ok(
      resent <= inFlight + CHUNK_SIZE,
      `${resent} bytes sent again (${after.resentChunks} chunks); ${inFlight} were sent but not on disk when killed: at most one chunk of verified bytes is sent twice`,
    )
  },
)

t.test(
  'kill -9 of the sending daemon mid-transfer: restarted, it sends exactly the chunks the receiver lacks',
  async (t) => {
    const daemons = await pairedDaemons(t)
    const file = join(daemons.home, 'f.bin')
    await randomFile(file, SIZE)
    const bob = await daemons.connect('bob')
    startCli(t, daemons.home, ['--instance', 'alice', 'send', 'bob', '--file', file, '--json'])
    const at = killPoint(t)
    const partial = await transferEvent(bob, (info) => info.transferred >= at)
    const paused = transferEvent(bob, (info) => info.id === partial.id && info.state === 'paused')
    await daemons.kill('alice')
    const { transferred } = await paused
    t.ok(transferred < SIZE, `the receiver paused with ${transferred} bytes verified`)
    const downloads = join(instanceDir(daemons.home, 'bob'), 'downloads')
    t.same(await readdir(downloads), ['.pairctl-partial'], 'nothing under the final name')

    await daemons.start('alice')
    await linked(daemons, 'alice')
    const alice = await daemons.connect('alice')
    const done = await transferEvent(alice, (info) => info.id === partial.id && info.state === 'done')
    t.equal(
      (await transferEvent(bob, (info) => info.id === partial.id)).state,
      'done',
      'the receiver is done too',
    )
    t.equal(await fileHash(join(downloads, 'f.bin')), await fileHash(file), 'the file is identical')
    t.equal(
      done.sentBytes,
      SIZE - transferred,
      'the restarted sender sent exactly the bytes not yet verified',
    )
    t.equal(done.resentChunks, 0, 'and no chunk twice')
  },
)
