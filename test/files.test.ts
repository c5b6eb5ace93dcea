/** The durable-write helpers every store shares (`lib/files.ts`). */
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { setAside, sweepTemporaries } from '../lib/files.js'
import { isRunning } from '../lib/identity/index.js'
import { deadPid } from './helpers/processes.js'
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

t.test("sweepTemporaries removes a dead writer's temporary files and nothing else", async (t) => {
  const dir = await tempDir(t, 'pairctl-files-')
  const dead = await deadPid()
  const names = {
    deadWriters: [`devices.json.tmp-${dead}-0a1b2c3d`, `routing.json.tmp-${dead}-ffffffff`],
    kept: [
      `config.json.tmp-${process.pid}-01234567`, // a live writer's: its rename may be about to happen
      'devices.json',
      `devices.json.corrupt-2026-12-07T12-00-00.000Z`,
      `notes.tmp-${dead}-xyz`, // not a name the writers make
      `devices.json.tmp-${dead}-0a1b2c3d.bak`,
    ],
  }
  for (const name of [...names.deadWriters, ...names.kept]) await writeFile(join(dir, name), 'x')
  const removed = await sweepTemporaries(dir, isRunning)
  t.same(removed.sort(), [...names.deadWriters].sort())
  t.same((await readdir(dir)).sort(), [...names.kept].sort())
  t.same(await sweepTemporaries(join(dir, 'missing'), isRunning), [], 'a missing directory has none')
})
