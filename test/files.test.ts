/** The durable-write helpers every store shares (`lib/files.ts`). */
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { setAside } from '../lib/files.js'
import { tempDir } from './transfer/helpers/devices.js'

t.test('setAside keeps every corrupt copy, even two set aside in the same millisecond', async (t) => {
  const dir = await tempDir(t, 'pairctl-files-')
  const path = join(dir, 'devices.json')
  const now = new Date('2026-12-07T12:00:00.000Z')
  const kept: string[] = []
  for (const content of ['{first', '{second', '{third']) {
    await writeFile(path, content)
    kept.push(await setAside(path, now))
  }
  t.same(
    kept.map((name) => name.slice(dir.length + 1)),
    [
      'devices.json.corrupt-2026-12-07T12-00-00.000Z',
      'devices.json.corrupt-2026-12-07T12-00-00.000Z-2',
      'devices.json.corrupt-2026-12-07T12-00-00.000Z-3',
    ],
  )
  t.same(
    await Promise.all(kept.map((name) => readFile(name, 'utf8'))),
    ['{first', '{second', '{third'],
    'each copy holds its own bytes',
  )
  t.notOk((await readdir(dir)).includes('devices.json'), 'the file itself is gone, so it can start afresh')
})

t.test('setAside of a file that is not there fails with the file system error', async (t) => {
  const dir = await tempDir(t, 'pairctl-files-')
  await t.rejects(setAside(join(dir, 'missing.json')), { code: 'ENOENT' })
  t.same(await readdir(dir), [])
})
