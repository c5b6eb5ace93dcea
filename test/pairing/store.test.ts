import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Ed25519KeyPair } from '../../lib/crypto/index.js'
import { deviceIdFromPublicKey } from '../../lib/identity/device-id.js'
import { type PairedDevice, PairedDeviceStore } from '../../lib/pairing/store.js'

function device(pairedAt: number): PairedDevice {
  const identityKey = Ed25519KeyPair.generate().publicKey
  return {
    deviceId: deviceIdFromPublicKey(identityKey),
    identityKey,
    name: `dev-${pairedAt}`,
    type: 'laptop',
    pairedAt,
    addresses: [{ host: '127.0.0.1', port: 1234, transport: 'tcp' }],
    presenceSecret: new Uint8Array(32).fill(pairedAt),
  }
}

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pairctl-store-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('add, get, list, update, remove, persisted across reopen', async (t) => {
  const dir = await tempDir(t)
  const store = await PairedDeviceStore.open(dir)
  const a = device(2)
  const b = device(1)
  await store.add(a)
  await store.add(b)
  t.same(
    store.list().map((d) => d.name),
    ['dev-1', 'dev-2'],
  )
  t.ok(await store.updateAddresses(a.deviceId, [{ host: '::1', port: 9, transport: 'tcp' }]))
  t.notOk(await store.updateAddresses('NOPE', []))
  const again = await PairedDeviceStore.open(dir)
  t.same(again.get(a.deviceId)?.addresses, [{ host: '::1', port: 9, transport: 'tcp' }])
  t.same(again.get(b.deviceId)?.identityKey, b.identityKey)
  t.same(again.get(b.deviceId)?.presenceSecret, b.presenceSecret, 'the presence secret is kept')
  t.ok(await again.remove(b.deviceId))
  t.notOk(await again.remove(b.deviceId))
  t.same(
    (await PairedDeviceStore.open(dir)).list().map((d) => d.deviceId),
    [a.deviceId],
  )
  t.equal((await stat(join(dir, 'devices.json'))).mode & 0o777, 0o600)
  t.same(
    (await readdir(dir)).filter((f) => f.includes('tmp')),
    [],
    'no temp files left',
  )
})

t.test('a device whose ID does not match its key is refused', async (t) => {
  const store = await PairedDeviceStore.open(await tempDir(t))
  await t.rejects(store.add({ ...device(1), deviceId: device(2).deviceId }), { code: 'PAIRING_BAD_OPTION' })
})

t.test('corrupt files are kept aside and reported, never replaced silently', async (t) => {
  for (const content of [
    '{not json',
    '{"version":3,"devices":[]}',
    JSON.stringify({ version: 1, devices: [{}] }),
  ]) {
    const dir = await tempDir(t)
    await writeFile(join(dir, 'devices.json'), content)
    await t.rejects(PairedDeviceStore.open(dir), { code: 'STORE_CORRUPT' })
    const kept = (await readdir(dir)).filter((f) => f.startsWith('devices.json.corrupt-'))
    t.equal(kept.length, 1)
    t.equal(await readFile(join(dir, kept[0]!), 'utf8'), content, 'original bytes kept')
    t.same((await PairedDeviceStore.open(dir)).list(), [], 'reopening starts empty')
  }
})

t.test('a stored device ID that does not match its key is corruption', async (t) => {
  const dir = await tempDir(t)
  const store = await PairedDeviceStore.open(dir)
  await store.add(device(1))
  const path = join(dir, 'devices.json')
  const json = JSON.parse(await readFile(path, 'utf8'))
  json.devices[0].deviceId = device(2).deviceId
  await writeFile(path, JSON.stringify(json))
  await t.rejects(PairedDeviceStore.open(dir), { code: 'STORE_CORRUPT' })
})

t.test('concurrent writes are serialized and all land', async (t) => {
  const dir = await tempDir(t)
  const store = await PairedDeviceStore.open(dir)
  await Promise.all(Array.from({ length: 10 }, (_, i) => store.add(device(i))))
  t.equal((await PairedDeviceStore.open(dir)).list().length, 10)
})

t.test(
  'a version 1 file loads, its devices without a presence secret; the next write is version 2',
  async (t) => {
    const dir = await tempDir(t)
    const { presenceSecret: _, ...old } = device(1)
    const stored = { ...old, identityKey: Buffer.from(old.identityKey).toString('base64') }
    await writeFile(join(dir, 'devices.json'), JSON.stringify({ version: 1, devices: [stored] }))
    const store = await PairedDeviceStore.open(dir)
    t.equal(store.get(old.deviceId)?.presenceSecret, undefined)
    t.same(store.get(old.deviceId)?.identityKey, old.identityKey)
    await store.add(device(2))
    t.equal(JSON.parse(await readFile(join(dir, 'devices.json'), 'utf8')).version, 2)
  },
)
