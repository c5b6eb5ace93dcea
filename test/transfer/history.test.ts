/**
 * The transfer history stays bounded (`spec/transfer.md` §6.4): beyond the finished transfers kept, the
 * oldest are forgotten, in memory and on disk, once the peer knows how they ended; received files stay.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { TransferStore } from '../../lib/transfer/store.js'
import { online, pairedDevices } from './helpers/devices.js'
import { finalState } from './helpers/files.js'

const KEEP = 2

/** The ids of the transfer records `dir`'s instance has on disk. */
async function recordsOnDisk(dir: string): Promise<string[]> {
  const names = await readdir(join(dir, 'transfers'))
  return names.filter((name) => name.endsWith('.json')).map((name) => name.slice(0, -'.json'.length))
}

t.test('finished transfers beyond the kept number are forgotten on both sides; the files stay', async (t) => {
  const env = await pairedDevices(t, { a: { keepFinished: KEEP }, b: { keepFinished: KEEP } })
  const a = await env.start('a')
  let b = await env.start('b')
  await online(a.links, env.ids.b.deviceId)
  const ids: string[] = []
  for (let i = 0; i < 5; i++) {
    const path = join(env.root, `note-${i}.txt`)
    await writeFile(path, `note ${i}`)
    const sent = await a.transfers.send(env.ids.b.deviceId, [path])
    t.equal((await finalState(a.transfers.follow(sent.id))).state, 'done')
    ids.push(sent.id)
  }
  const newest = ids.slice(-KEEP)
  t.same(
    a.transfers.list().map((info) => info.id),
    newest,
    'the sender lists the newest two',
  )
  t.same((await recordsOnDisk(env.dirs.a)).sort(), [...newest].sort(), 'and keeps only their state on disk')
  t.equal(a.transfers.entries.get(newest[1]!)?.manifest, null, 'a kept finished transfer holds no manifest')
  for (let i = 0; i < 5; i++)
    t.equal(await readFile(join(env.dirs.b, 'downloads', `note-${i}.txt`), 'utf8'), `note ${i}`)
  t.ok(b.transfers.list().length <= KEEP + 1, 'the receiver keeps at most one more, not yet told')
  while ([...b.transfers.entries.values()].some((entry) => entry.record.told !== true))
    await new Promise((resolve) => setTimeout(resolve, 10))
  await b.stop()
  b = await env.start('b')
  t.same(
    b.transfers.list().map((info) => info.id),
    newest,
    'after a restart the receiver lists the newest two',
  )
  t.same((await recordsOnDisk(env.dirs.b)).sort(), [...newest].sort())
})

t.test('a finished transfer whose end the peer was not told is kept past the limit', async (t) => {
  const env = await pairedDevices(t, { b: { keepFinished: KEEP } })
  const store = new TransferStore(env.dirs.b)
  const record = (n: number, told: boolean) => ({
    v: 1 as const,
    id: n.toString(16).padStart(32, '0'),
    direction: 'receive' as const,
    deviceId: env.ids.a.deviceId,
    state: 'done' as const,
    root: '0'.repeat(64),
    label: `file-${n}`,
    files: 1,
    bytes: 1,
    createdAt: 1_000 + n,
    told,
  })
  await store.load()
  await store.save(record(1, false))
  for (let n = 2; n <= 5; n++) await store.save(record(n, true))
  const b = await env.start('b')
  t.same(
    b.transfers.list().map((info) => info.label),
    ['file-1', 'file-4', 'file-5'],
    'the untold one stays; of the told ones, the newest two',
  )
  t.same((await recordsOnDisk(env.dirs.b)).length, 3, 'the others are gone from disk')
})
