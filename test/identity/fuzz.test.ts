/** Property tests of the identity file (`spec/identity.md` §3) against corruption: typed, never replaced. */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import t from 'tap'
import { IDENTITY_FILE, IdentityError, loadOrCreateIdentity } from '../../lib/identity/index.js'
import { runs, scratchDirs, stateFileCorruptions } from '../fuzz/helpers/arbitraries.js'

t.test('a created identity reloads as the same device', async (t) => {
  const dirs = await scratchDirs(t, 'identity')
  await fc.assert(
    fc.asyncProperty(fc.constant(null), async () => {
      const dir = dirs.next()
      const created = await loadOrCreateIdentity(dir)
      return (await loadOrCreateIdentity(dir)).deviceId === created.deviceId
    }),
    runs(20),
  )
  t.pass('20 identities reloaded')
})

t.test('a corrupt identity.json is a typed error and stays byte for byte as it was', async (t) => {
  const dirs = await scratchDirs(t, 'identity')
  const validDir = dirs.next()
  await loadOrCreateIdentity(validDir)
  const valid = JSON.parse(await readFile(join(validDir, IDENTITY_FILE), 'utf8'))
  let refused = 0
  await fc.assert(
    fc.asyncProperty(stateFileCorruptions(valid), async (text) => {
      const dir = dirs.next()
      await mkdir(dir, { mode: 0o700 })
      const path = join(dir, IDENTITY_FILE)
      await writeFile(path, text, { mode: 0o600 })
      await chmod(path, 0o600)
      try {
        await loadOrCreateIdentity(dir)
      } catch (error) {
        if (!(error instanceof IdentityError)) return false
        if (!['IDENTITY_CORRUPT', 'IDENTITY_NEWER_VERSION'].includes(error.code)) return false
        refused++
      }
      // Loaded or refused, the file is exactly what was there: no identity is ever regenerated over it.
      return (await readFile(path, 'utf8')) === text
    }),
    runs(150),
  )
  t.ok(refused > 100, `most corruptions were refused (${refused} of 150)`)
})
