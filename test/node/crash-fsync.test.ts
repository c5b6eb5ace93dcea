import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import t from 'tap'
import { Ed25519KeyPair } from '../../lib/crypto/index.js'
import {
  deviceIdFromPublicKey,
  IDENTITY_FILE,
  LOCK_FILE,
  loadOrCreateIdentity,
  lockInstance,
  writeAtomic,
} from '../../lib/identity/index.js'
import { PairedDeviceStore, STORE_FILE } from '../../lib/pairing/store.js'
import { TransferStore } from '../../lib/transfer/store.js'
import { assertDurableReplacements, directorySyncAfter, traceFs } from './helpers/fs-trace.js'

// Each test records the real calls of the real code path (nothing is stubbed) and checks their order:
// data fsynced before the rename or link that publishes it, the directory fsynced after.

async function tempRoot(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'pairctl-fsync-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  return root
}

t.test(
  'a new identity is fsynced, linked into place, and its directory (and every new parent) fsynced',
  async (t) => {
    const root = await tempRoot(t)
    const dir = join(root, 'instances', 'alice')
    const calls = await traceFs(t, root)
    await loadOrCreateIdentity(dir)
    t.equal(assertDurableReplacements(t, calls, join(dir, IDENTITY_FILE)), 1, 'identity.json was linked once')
    for (const created of [join(root, 'instances'), dir]) {
      const made = calls.findIndex((call) => call.op === 'mkdir' && call.path === created)
      t.ok(made !== -1, `${created} was created`)
      t.ok(directorySyncAfter(calls, dirname(created), made) !== -1, `its parent was fsynced after the mkdir`)
    }
  },
)

t.test('the instance lock is created the same durable way', async (t) => {
  const root = await tempRoot(t)
  const calls = await traceFs(t, root)
  const lock = await lockInstance(root)
  t.teardown(() => lock.release())
  t.equal(assertDurableReplacements(t, calls, join(root, LOCK_FILE)), 1, 'instance.lock was linked once')
})

t.test(
  'writeAtomic (config.json, daemon.starting) fsyncs the data before the rename, the directory after',
  async (t) => {
    const root = await tempRoot(t)
    const calls = await traceFs(t, root)
    const path = join(root, 'config.json')
    await writeAtomic(path, '{"v":1}\n')
    await writeAtomic(path, '{"v":2}\n')
    t.equal(assertDurableReplacements(t, calls, path), 2, 'both writes were renamed into place')
  },
)

t.test('every write of the paired-device store (add, update, remove) is durable', async (t) => {
  const root = await tempRoot(t)
  const store = await PairedDeviceStore.open(root)
  const calls = await traceFs(t, root)
  const identityKey = Ed25519KeyPair.generate().publicKey
  const deviceId = deviceIdFromPublicKey(identityKey)
  await store.add({ deviceId, identityKey, name: 'bob', type: 'laptop', pairedAt: 1, addresses: [] })
  await store.updateAddresses(deviceId, [{ host: '127.0.0.1', port: 9, transport: 'tcp' }])
  await store.remove(deviceId)
  t.equal(assertDurableReplacements(t, calls, join(root, STORE_FILE)), 3, 'three writes, each renamed')
})

t.test('transfer state: records and manifests are durable, and so is their removal', async (t) => {
  const root = await tempRoot(t)
  const store = new TransferStore(root)
  await store.load()
  const calls = await traceFs(t, root)
  const id = 'ab'.repeat(16)
  await store.saveManifest(id, new Uint8Array([1, 2, 3]))
  await store.save({
    v: 1,
    id,
    direction: 'receive',
    deviceId: 'X',
    state: 'pending',
    root: 'cd'.repeat(32),
    label: 'f.bin',
    files: 1,
    bytes: 3,
    createdAt: 1,
  })
  t.equal(assertDurableReplacements(t, calls, join(store.dir, `${id}.manifest`)), 1, 'the manifest')
  t.equal(assertDurableReplacements(t, calls, join(store.dir, `${id}.json`)), 1, 'the record')
  const before = calls.length
  await store.remove(id)
  const record = calls.findIndex(
    (call, at) => at >= before && call.op === 'unlink' && call.path.endsWith('.json'),
  )
  const manifest = calls.findIndex(
    (call, at) => at >= before && call.op === 'unlink' && call.path.endsWith('.manifest'),
  )
  t.ok(record !== -1 && manifest > record, 'the record (the commit point) goes before its manifest')
  t.ok(directorySyncAfter(calls, store.dir, manifest) !== -1, 'and the directory is fsynced after both')
})
