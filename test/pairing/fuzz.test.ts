/** Property tests of adverts and the paired-device store (`spec/pairing.md` §3, §10) against corruption. */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import t from 'tap'
import { Ed25519KeyPair } from '../../lib/crypto/index.js'
import { deviceIdFromPublicKey } from '../../lib/identity/device-id.js'
import { decodeAdvert, encodeAdvert } from '../../lib/pairing/advert.js'
import { PairingError } from '../../lib/pairing/errors.js'
import { type PairedDevice, PairedDeviceStore, STORE_FILE } from '../../lib/pairing/store.js'
import {
  advertAddress,
  garbageOr,
  runs,
  sameValue,
  stateFileCorruptions,
} from '../fuzz/helpers/arbitraries.js'

const rendezvous = new Uint8Array(32).fill(1)
const advertKey = Ed25519KeyPair.fromSeed(new Uint8Array(32).fill(2))
const NOW = 1_800_000_000_000

t.test('adverts verify to what was signed; garbage and mutated adverts are null', async (t) => {
  const addresses = fc.array(advertAddress, { minLength: 1, maxLength: 8 })
  fc.assert(
    fc.property(addresses, fc.integer({ min: 1, max: 15 * 60_000 }), (addrs, ttl) => {
      const advert = decodeAdvert(
        rendezvous,
        encodeAdvert(rendezvous, advertKey, addrs, NOW + ttl),
        advertKey.publicKey,
        NOW,
      )
      return (
        advert !== null &&
        advert.expiresAt === NOW + ttl &&
        sameValue(advert.addresses, addrs.slice(0, advert.addresses.length))
      )
    }),
    runs(200),
  )
  const samples = fc
    .sample(addresses, { numRuns: 4, seed: 9 })
    .map((addrs) => encodeAdvert(rendezvous, advertKey, addrs, NOW + 60_000))
  fc.assert(
    fc.property(garbageOr(samples, 700), (bytes) => {
      const advert = decodeAdvert(rendezvous, bytes, advertKey.publicKey, NOW)
      return advert === null || samples.some((s) => Buffer.from(s).equals(bytes))
    }),
    runs(2000),
  )
  t.pass('200 adverts verified; 2000 forged ones were null')
})

const device = fc
  .record({
    seed: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    name: fc.string({ maxLength: 32 }),
    type: fc.string({ maxLength: 32 }),
    pairedAt: fc.maxSafeNat(),
    addresses: fc.array(advertAddress, { maxLength: 4 }),
    presenceSecret: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: undefined }),
  })
  .map(({ seed, presenceSecret, ...rest }): PairedDevice => {
    const identityKey = Ed25519KeyPair.fromSeed(seed).publicKey
    return {
      deviceId: deviceIdFromPublicKey(identityKey),
      identityKey,
      ...rest,
      ...(presenceSecret ? { presenceSecret } : {}),
    }
  })

t.test('stored devices reload as they were added', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'pairctl-fuzz-store-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  let run = 0
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(device, { maxLength: 4, selector: (d) => d.deviceId }),
      async (devices) => {
        const dir = join(root, String(run++))
        const store = await PairedDeviceStore.open(dir)
        for (const d of devices) await store.add(d)
        const reopened = await PairedDeviceStore.open(dir)
        return sameValue(reopened.list(), store.list()) && reopened.list().length === devices.length
      },
    ),
    runs(60),
  )
  t.pass('60 device lists round-tripped through devices.json')
})

t.test(
  'a corrupt devices.json is STORE_CORRUPT and kept aside byte for byte, never overwritten',
  async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'pairctl-fuzz-store-'))
    t.teardown(() => rm(root, { recursive: true, force: true }))
    const valid = fc.sample(device, { numRuns: 1, seed: 10 })[0]!
    const validDir = join(root, 'valid')
    await (await PairedDeviceStore.open(validDir)).add(valid)
    const validFile = JSON.parse(await readFile(join(validDir, STORE_FILE), 'utf8'))
    const corruptions = stateFileCorruptions(validFile, {
      of: (file) => file.devices as Record<string, unknown>[],
      key: 'devices',
    })
    let corrupt = 0
    let run = 0
    await fc.assert(
      fc.asyncProperty(corruptions, async (text) => {
        const dir = join(root, String(run++))
        await (await PairedDeviceStore.open(dir)).add(valid)
        await writeFile(join(dir, STORE_FILE), text)
        let store: PairedDeviceStore
        try {
          store = await PairedDeviceStore.open(dir)
        } catch (error) {
          if (!(error instanceof PairingError) || error.code !== 'STORE_CORRUPT') return false
          corrupt++
          const names = await readdir(dir)
          const kept = names.filter((name) => name.startsWith(`${STORE_FILE}.corrupt-`))
          if (kept.length !== 1 || names.includes(STORE_FILE)) return false
          if ((await readFile(join(dir, kept[0]!), 'utf8')) !== text) return false
          // Opening again starts empty and leaves the kept copy alone.
          const fresh = await PairedDeviceStore.open(dir)
          return fresh.list().length === 0 && (await readFile(join(dir, kept[0]!), 'utf8')) === text
        }
        // Still valid: every device in it is well-formed (its ID matches its key).
        return store
          .list()
          .every((d) => d.deviceId === deviceIdFromPublicKey(d.identityKey) && d.identityKey.length === 32)
      }),
      runs(150),
    )
    t.ok(corrupt > 100, `most corruptions were caught (${corrupt} of 150)`)
  },
)
