import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { TransferStore } from '../../lib/transfer/store.js'
import { tempDir } from './helpers/devices.js'

const ID = 'ab'.repeat(16)
const OTHER = 'cd'.repeat(16)

function record(id: string) {
  return {
    v: 1 as const,
    id,
    direction: 'receive' as const,
    deviceId: 'device',
    state: 'active' as const,
    root: '00'.repeat(32),
    label: 'f.bin',
    files: 1,
    bytes: 1,
    createdAt: 1,
  }
}

t.test('remove deletes the record and the manifest; removing what is gone is no error', async (t) => {
  const store = new TransferStore(await tempDir(t))
  await store.saveManifest(ID, new Uint8Array([1, 2, 3]))
  await store.save(record(ID))
  await store.saveManifest(OTHER, new Uint8Array([4]))
  await store.save(record(OTHER))
  await store.remove(ID)
  t.same((await readdir(store.dir)).sort(), [`${OTHER}.json`, `${OTHER}.manifest`], 'only the other is left')
  await store.remove(ID)
  t.same(
    (await store.load()).map((r) => r.id),
    [OTHER],
  )
})

t.test('a failure to remove is a typed error and the manifest stays with its record', async (t) => {
  const store = new TransferStore(await tempDir(t))
  await store.saveManifest(ID, new Uint8Array([1]))
  await mkdir(join(store.dir, `${ID}.json`))
  await t.rejects(store.remove(ID), { code: 'TRANSFER_IO' })
  t.ok((await readdir(store.dir)).includes(`${ID}.manifest`), 'the record was not removed, so neither is it')
})

t.test('load sweeps a manifest that has no record, keeps those that have one', async (t) => {
  const store = new TransferStore(await tempDir(t))
  await store.saveManifest(ID, new Uint8Array([1]))
  await store.saveManifest(OTHER, new Uint8Array([2]))
  await store.save(record(OTHER))
  const corrupt = 'ef'.repeat(16)
  await store.saveManifest(corrupt, new Uint8Array([3]))
  await writeFile(join(store.dir, `${corrupt}.json`), '{not json')
  t.same(
    (await store.load()).map((r) => r.id),
    [OTHER],
  )
  const names = await readdir(store.dir)
  t.same(
    names.map((name) => name.replace(/\.corrupt-.*$/, '.corrupt-T')).sort(),
    [`${OTHER}.json`, `${OTHER}.manifest`, `${corrupt}.json.corrupt-T`, `${corrupt}.manifest`].sort(),
    'the orphan is gone; a corrupt record keeps its manifest beside it for inspection',
  )
  const kept = names.find((name) => name.startsWith(`${corrupt}.json.corrupt-`))!
  t.equal(await readFile(join(store.dir, kept), 'utf8'), '{not json', 'the corrupt record, byte for byte')
  t.same(
    (await store.load()).map((r) => r.id),
    [OTHER],
    'a second load leaves both alone',
  )
  t.ok((await readdir(store.dir)).includes(`${corrupt}.manifest`))
})
