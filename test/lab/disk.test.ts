/**
 * A full disk while receiving (spec/transfer.md §6.1): the downloads directory is a small tmpfs, the file
 * larger than it. The receiver pauses with TRANSFER_DISK_FULL, keeps its verified chunks in the partial
 * file and puts nothing under the final name; once the tmpfs is enlarged, accepting the transfer again
 * completes it identical. Needs root (mount); run with `npm run test:lab`.
 */
import { execFileSync } from 'node:child_process'
import { mkdir, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { transferConstants } from '../../lib/transfer/index.js'
import { online, pairedDevices } from '../transfer/helpers/devices.js'
import { changed, fileHash, finalState, randomFile } from '../transfer/helpers/files.js'

const MiB = 1024 * 1024
const { CHUNK_SIZE, STREAM_WINDOW } = transferConstants

if (process.getuid?.() !== 0) {
  t.fail('the full-disk test needs root (it mounts a tmpfs): run `sudo npm run test:lab`; CI runs it as root')
} else {
  t.test(
    'a full disk pauses the transfer with TRANSFER_DISK_FULL, keeps the partial; more space and it completes',
    async (t) => {
      const env = await pairedDevices(t)
      const downloads = join(env.root, 'small-disk')
      await mkdir(downloads)
      // Not a whole number of chunks: the disk fills in the middle of one (a short write, then ENOSPC).
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8700k,mode=0700', 'tmpfs', downloads])
      // After the devices stopped (pairedDevices' teardown), before their directory is removed.
      t.teardown(() => execFileSync('umount', [downloads]))
      const a = await env.start('a')
      const b = await env.start('b', { downloads })
      await online(a.links, env.ids.b.deviceId)
      const file = join(env.root, 'f.bin')
      await randomFile(file, 20 * MiB + 4321)
      const paused = changed(b.transfers, (info) => info.state === 'paused' || info.state === 'done')
      const sent = await a.transfers.send(env.ids.b.deviceId, [file])
      const full = await paused
      t.equal(full.state, 'paused', 'the receiver paused')
      t.equal(full.error?.code, 'TRANSFER_DISK_FULL', 'with a typed error')
      t.match(full.error?.message, /disk is full/, 'that says what to do')
      t.equal(full.transferred, 8 * CHUNK_SIZE, 'the chunks that fit are verified, not the one cut short')
      t.same(await readdir(downloads), ['.pairctl-partial'], 'nothing under the final name')
      const partial = join(downloads, '.pairctl-partial', sent.id, '0.part')
      t.ok((await stat(partial)).size >= full.transferred, 'the partial file is kept for resume')

      execFileSync('mount', ['-o', 'remount,size=64m', downloads])
      await b.transfers.accept(sent.id)
      const done = await finalState(b.transfers.follow(sent.id))
      t.equal(done.state, 'done', 'accepting again resumes and completes it')
      t.equal(done.error, null, 'the error is cleared')
      t.equal(await fileHash(join(downloads, 'f.bin')), await fileHash(file), 'the file is identical')
      t.same(await readdir(downloads), ['f.bin'], 'the partial is gone')
      t.ok(
        a.transfers.sender.counters.chunksSent <=
          Math.ceil(done.bytes / CHUNK_SIZE) + STREAM_WINDOW / CHUNK_SIZE + 1,
        'only what was in flight when the disk filled is sent again',
      )
    },
  )
}
