import { spawn } from 'node:child_process'
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { fromHex, hmacSha256, utf8 } from '../../lib/crypto/index.js'
import {
  deviceIdFromPublicKey,
  IDENTITY_FILE,
  IdentityError,
  instanceDir,
  LOCK_FILE,
  loadOrCreateIdentity,
  lockInstance,
  pairctlHome,
  parseDeviceId,
} from '../../lib/identity/index.js'
import { deadPid } from '../helpers/processes.js'

t.test('device ID: format, determinism and check characters', async (t) => {
  const id = deviceIdFromPublicKey(
    fromHex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c'),
  )
  t.match(id, /^[A-Z2-7]{4}(-[A-Z2-7]{4}){6}$/)
  t.equal(parseDeviceId(id.toLowerCase().replaceAll('-', ' ')), id, 'case and separators do not matter')
  const chars = id.replaceAll('-', '').split('')
  for (let i = 0; i < chars.length; i++) {
    const typo = [...chars]
    typo[i] = typo[i] === 'A' ? 'B' : 'A'
    t.throws(() => parseDeviceId(typo.join('')), { code: 'IDENTITY_BAD_DEVICE_ID' }, `typo at ${i} is caught`)
  }
  t.throws(() => parseDeviceId(id.slice(0, -1)), IdentityError)
  t.not(deviceIdFromPublicKey(new Uint8Array(32)), id)
})

t.test('device ID matches the vector in spec/vectors/identity.json', async (t) => {
  const vectors = JSON.parse(await readFile('spec/vectors/identity.json', 'utf8')) as {
    deviceIds: { publicKey: string; deviceId: string }[]
  }
  t.ok(vectors.deviceIds.length >= 3)
  for (const v of vectors.deviceIds) t.equal(deviceIdFromPublicKey(fromHex(v.publicKey)), v.deviceId)
})

t.test('instance directories: PAIRCTL_HOME and name validation', async (t) => {
  t.equal(pairctlHome({ PAIRCTL_HOME: '/x/y' }), '/x/y')
  t.match(pairctlHome({ HOME: '/home/u' }), /pairctl$/)
  t.equal(instanceDir('alice', '/h'), '/h/instances/alice')
  for (const bad of ['', '..', '../x', 'a/b', '.hidden', 'x'.repeat(65)]) {
    t.throws(() => instanceDir(bad, '/h'), { code: 'IDENTITY_BAD_INSTANCE' }, JSON.stringify(bad))
  }
})

t.test('identity is created once with mode 0600 and loaded afterwards', async (t) => {
  const dir = join(t.testdir(), 'inst')
  const first = await loadOrCreateIdentity(dir)
  const second = await loadOrCreateIdentity(dir)
  t.equal(second.deviceId, first.deviceId)
  t.same(second.noiseKeyPair.publicKey, first.noiseKeyPair.publicKey)
  t.same(
    first.noiseKeyPair.privateKey,
    hmacSha256(first.keyPair.seed, utf8('pairctl/noise-static-key/v1')),
    'the Noise static key is the one spec/noise.md §2.5 derives from the seed',
  )
  t.equal((await stat(join(dir, IDENTITY_FILE))).mode & 0o777, 0o600)
  t.same(await readdir(dir), [IDENTITY_FILE], 'no temporary files left behind')
})

t.test('concurrent first use creates exactly one identity', async (t) => {
  const dir = join(t.testdir(), 'inst')
  const identities = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateIdentity(dir)))
  t.equal(new Set(identities.map((i) => i.deviceId)).size, 1)
})

t.test('a corrupt identity file is reported and left untouched', async (t) => {
  const dir = t.testdir({ [IDENTITY_FILE]: '{"version":1,"ed25519Seed":"short"' })
  await chmod(join(dir, IDENTITY_FILE), 0o600)
  await t.rejects(loadOrCreateIdentity(dir), { code: 'IDENTITY_CORRUPT' })
  t.equal(await readFile(join(dir, IDENTITY_FILE), 'utf8'), '{"version":1,"ed25519Seed":"short"')
})

t.test('a world-readable identity file is refused with the fix in the message', async (t) => {
  const dir = join(t.testdir(), 'inst')
  await loadOrCreateIdentity(dir)
  await chmod(join(dir, IDENTITY_FILE), 0o644)
  await t.rejects(loadOrCreateIdentity(dir), { code: 'IDENTITY_INSECURE', message: /chmod 600/ })
})

t.test('instance lock: exclusive, released, stale lock recovered', async (t) => {
  const dir = t.testdir()
  const lock = await lockInstance(dir)
  await t.rejects(lockInstance(dir), {
    code: 'IDENTITY_INSTANCE_LOCKED',
    message: new RegExp(String(process.pid)),
  })
  await lock.release()
  const again = await lockInstance(dir)
  await again.release()

  const dead = await deadPid()
  await writeFile(join(dir, LOCK_FILE), `${dead}\n`)
  const recovered = await lockInstance(dir)
  t.equal((await readFile(join(dir, LOCK_FILE), 'utf8')).trim(), String(process.pid))
  await recovered.release()
})

t.test('the lock holds across processes', async (t) => {
  const dir = t.testdir()
  const lock = await lockInstance(dir)
  t.teardown(() => lock.release())
  const script = `import('${new URL('../../lib/identity/index.ts', import.meta.url).href}').then(m => m.lockInstance(${JSON.stringify(dir)})).then(() => process.exit(0), (e) => { console.log(e.code); process.exit(1) })`
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  t.equal(code, 1)
  t.equal(out.trim(), 'IDENTITY_INSTANCE_LOCKED')
})

t.test('an identity file from a newer pairctl says so, not "corrupt", and is left untouched', async (t) => {
  const dir = t.testdir({})
  const content = `${JSON.stringify({ version: 2, ed25519Seed: 'x', createdAt: 'later' })}\n`
  await writeFile(join(dir, IDENTITY_FILE), content, { mode: 0o600 })
  const err = await loadOrCreateIdentity(dir).catch((e: unknown) => e)
  t.match(err, { code: 'IDENTITY_NEWER_VERSION', message: /written by a newer pairctl/ })
  t.notMatch((err as Error).message, /is corrupt/)
  t.equal(await readFile(join(dir, IDENTITY_FILE), 'utf8'), content)
})

t.test(
  'a corrupt file names the bad field in a sentence, without a dump of validation internals',
  async (t) => {
    const dir = t.testdir({})
    await writeFile(join(dir, IDENTITY_FILE), '{"version":1,"ed25519Seed":"short","createdAt":"x"}', {
      mode: 0o600,
    })
    const err = (await loadOrCreateIdentity(dir).catch((e: unknown) => e)) as Error
    t.match(err, { code: 'IDENTITY_CORRUPT', message: /corrupt \(ed25519Seed: a 32-byte key in base64\)/ })
    t.notMatch(err.message, /[[{]/, 'no JSON of zod issues in the message')
  },
)

t.test('a home that cannot be created fails fast with IDENTITY_IO naming the directory', async (t) => {
  // Before, mkdir -p spun at full CPU here forever (the test then ends by tap's timeout).
  const err = await loadOrCreateIdentity('/proc/nonexistent/instances/default').catch((e: unknown) => e)
  t.match(err, { code: 'IDENTITY_IO', message: /cannot create the directory \/proc\/nonexistent/ })
})
