import { createHash, randomBytes } from 'node:crypto'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { online, pairedDevices } from './helpers/devices.js'

t.test('scratch', async (t) => {
  const env = await pairedDevices(t)
  const a = await env.start('a')
  const b = await env.start('b')
  await online(a.links, env.ids.b.deviceId)
  await online(b.links, env.ids.a.deviceId)
  await a.messages.send(env.ids.b.deviceId, 'hi')
  t.same(
    b.received.map((m) => m.text),
    ['hi'],
  )
  const data = randomBytes(5 * 1024 * 1024 + 17)
  await writeFile(join(env.root, 'file.bin'), data)
  const info = await a.transfers.send(env.ids.b.deviceId, [join(env.root, 'file.bin')])
  for await (const step of a.transfers.follow(info.id)) t.comment(step.state, step.transferred)
  const got = await readFile(join(env.dirs.b, 'downloads', 'file.bin'))
  t.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(data).digest('hex'))
  t.comment(await readdir(join(env.dirs.b, 'downloads')))
})
