/** Property tests of the instance configuration file (`spec/cli.md` §5) against corruption. */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import t from 'tap'
import {
  CONFIG_FILE,
  ConfigError,
  type InstanceConfig,
  loadConfig,
  saveConfig,
} from '../../lib/node/config.js'
import { runs, sameValue, scratchDirs, stateFileCorruptions } from '../fuzz/helpers/arbitraries.js'

const config: fc.Arbitrary<InstanceConfig> = fc.record(
  {
    version: fc.constant(1 as const),
    bootstrap: fc.array(
      fc
        .tuple(fc.oneof(fc.ipV4(), fc.domain()), fc.integer({ min: 1, max: 65535 }))
        .map(([host, port]) => `${host}:${port}`),
      { maxLength: 4 },
    ),
    name: fc.string({ minLength: 1, maxLength: 64 }),
    host: fc.oneof(fc.ipV4(), fc.ipV6()),
    port: fc.nat(65535),
  },
  { requiredKeys: ['version'] },
)

t.test('a saved configuration loads as saved', async (t) => {
  const dirs = await scratchDirs(t, 'config')
  await fc.assert(
    fc.asyncProperty(config, async (c) => {
      const dir = dirs.next()
      await mkdir(dir)
      await saveConfig(dir, c)
      return sameValue(await loadConfig(dir), c)
    }),
    runs(100),
  )
  t.pass('100 configurations round-tripped')
})

t.test('a corrupt config.json is CONFIG_INVALID and left as it was', async (t) => {
  const dirs = await scratchDirs(t, 'config')
  const valid = { version: 1, bootstrap: ['192.0.2.1:4000'], name: 'laptop', host: '127.0.0.1', port: 4000 }
  let refused = 0
  await fc.assert(
    fc.asyncProperty(stateFileCorruptions(valid), async (text) => {
      const dir = dirs.next()
      await mkdir(dir)
      const path = join(dir, CONFIG_FILE)
      await writeFile(path, text)
      try {
        const loaded = await loadConfig(dir)
        if (loaded.version !== 1) return false
      } catch (error) {
        if (!(error instanceof ConfigError) || error.code !== 'CONFIG_INVALID') return false
        refused++
      }
      return (await readFile(path, 'utf8')) === text
    }),
    runs(150),
  )
  t.ok(refused > 75, `most corruptions were refused (${refused} of 150)`)
})
