import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createNode } from '../../lib/node/index.js'
import { deadPid } from '../helpers/processes.js'

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pairctl-node-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return join(dir, 'instance')
}

t.test('one node per instance directory: the second is refused until the first closes', async (t) => {
  const dir = await tempDir(t)
  const first = await createNode({ dir, host: '127.0.0.1' })
  await t.rejects(createNode({ dir, host: '127.0.0.1' }), { code: 'IDENTITY_INSTANCE_LOCKED' })
  const deviceId = first.deviceId
  await first.close()
  const second = await createNode({ dir, host: '127.0.0.1' })
  t.equal(second.deviceId, deviceId, 'same identity after restart')
  await second.close()
})

t.test("a node's start removes the temporary files a killed writer left, a live writer's not", async (t) => {
  const dir = await tempDir(t)
  await (await createNode({ dir, host: '127.0.0.1' })).close()
  const dead = await deadPid()
  const left = [`devices.json.tmp-${dead}-0a1b2c3d`, join('transfers', `ab.json.tmp-${dead}-0a1b2c3d`)]
  const live = `config.json.tmp-${process.pid}-01234567`
  for (const name of [...left, live]) await writeFile(join(dir, name), '{"half')
  const node = await createNode({ dir, host: '127.0.0.1' })
  t.teardown(() => node.close())
  t.same(await readdir(dir).then((names) => names.filter((name) => name.includes('.tmp-'))), [live])
  t.same(await readdir(join(dir, 'transfers')), [], 'the transfer state directory is swept too')
})

t.test('bad options are NODE_BAD_OPTION naming the field', async (t) => {
  await t.rejects(createNode({ dir: await tempDir(t), bootstrap: ['nohost'] }), {
    code: 'NODE_BAD_OPTION',
    message: /bootstrap/,
  })
  await t.rejects(createNode({ dir: await tempDir(t), port: 70000 }), {
    code: 'NODE_BAD_OPTION',
    message: /port/,
  })
})

t.test('unpair of an unknown device fails; events end on close', async (t) => {
  const node = await createNode({ dir: await tempDir(t), host: '127.0.0.1' })
  await t.rejects(node.unpair('bob'), { code: 'NODE_UNKNOWN_DEVICE' })
  const events = node.events()
  const next = events.next()
  await node.close()
  t.same(await next, { value: undefined, done: true })
  await t.rejects(node.unpair('bob'), { code: 'NODE_CLOSED' })
})

t.test('aborting the signal closes the node and frees the instance', async (t) => {
  const dir = await tempDir(t)
  const controller = new AbortController()
  const node = await createNode({ dir, host: '127.0.0.1', signal: controller.signal })
  controller.abort()
  t.ok(node.closed, 'closing started on abort')
  await node.close()
  await t.rejects(node.unpair('x'), { code: 'NODE_CLOSED' })
  await t.rejects(createNode({ dir, host: '127.0.0.1', signal: controller.signal }), { code: 'NODE_CLOSED' })
  const again = await createNode({ dir, host: '127.0.0.1' })
  await again.close()
})

t.test('a node whose bootstrap node never answers starts alone instead of failing', async (t) => {
  const silent = createSocket('udp4')
  silent.bind(0, '127.0.0.1')
  await once(silent, 'listening')
  t.teardown(() => silent.close())
  const bootstrap = [`127.0.0.1:${silent.address().port}`]
  const node = await createNode({ dir: await tempDir(t), host: '127.0.0.1', bootstrap })
  t.teardown(() => node.close())
  t.equal(node.status('test').dht.routingTableSize, 0, 'alone, still trying to join')
})

t.test('the routing table is saved on close and rejoins without a bootstrap list', async (t) => {
  const first = await createNode({ dir: await tempDir(t), host: '127.0.0.1' })
  t.teardown(() => first.close())
  const bootstrap = [`127.0.0.1:${first.status('test').listen[0]!.port}`]
  const dir = await tempDir(t)
  const second = await createNode({ dir, host: '127.0.0.1', bootstrap })
  await second.close()
  const saved = JSON.parse(await readFile(join(dir, 'routing-table.json'), 'utf8')) as { nodes: string[] }
  t.same(saved.nodes, bootstrap, 'the table names the node it learned')
  const restarted = await createNode({ dir, host: '127.0.0.1' })
  t.teardown(() => restarted.close())
  t.equal(restarted.status('test').dht.routingTableSize, 1, 'rejoined from the saved table alone')
})

t.test('a corrupt saved routing table is set aside and the node still starts', async (t) => {
  const dir = await tempDir(t)
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'routing-table.json'), '{"version":1,"nodes":[')
  const node = await createNode({ dir, host: '127.0.0.1' })
  const files = await readdir(dir)
  t.ok(
    files.some((name) => name.startsWith('routing-table.json.corrupt-')),
    'kept aside for inspection',
  )
  await node.close()
})
