import { spawn } from 'node:child_process'
import dgram from 'node:dgram'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { Ed25519KeyPair, equalBytes, fromHex, randomBytes, toHex, utf8 } from '../../lib/crypto/index.js'
import { compare, xor } from '../../lib/dht/lookup.js'
import { DhtNode } from '../../lib/dht/node.js'

const fixture = fileURLToPath(new URL('./fixtures/fifty-nodes.ts', import.meta.url))

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

t.test('100 nodes in two processes on loopback: lookups, PUT/GET both ways, voted address', async (t) => {
  const first = await DhtNode.create({ host: '127.0.0.1' })
  const bootstrap = [`127.0.0.1:${first.address().port}`]
  const nodes = [first]
  for (let i = 0; i < 49; i++) nodes.push(await DhtNode.create({ host: '127.0.0.1', bootstrap }))
  await Promise.all(nodes.map((node) => node.ready()))
  t.teardown(() => Promise.all(nodes.map((node) => node.close())))

  const childKey = randomBytes(32)
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, bootstrap[0]!, toHex(childKey)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const next = async () => JSON.parse((await lines.next()).value as string)
  const exited = new Promise((resolve) => child.once('exit', resolve))
  t.teardown(async () => {
    child.stdin.end(`${JSON.stringify({ exit: true })}\n`)
    await exited
  })
  const hello = (await next()) as { ids: string[]; publicKey: string }
  t.equal(hello.ids.length, 50)

  // A child node's own id is the best possible target: it must come back first.
  const target = fromHex(hello.ids[17]!)
  const found = await collect(nodes[9]!.findNode(target))
  t.equal(found.length, 20)
  t.equal(toHex(found[0]!.id), hello.ids[17])
  const distances = found.map((contact) => xor(contact.id, target))
  t.ok(
    distances.every((d, i) => i === 0 || compare(distances[i - 1]!, d) < 0),
    'sorted by distance',
  )

  const fromChild = await collect(nodes[30]!.get('pairing', childKey))
  t.equal(fromChild.length, 1)
  t.equal(Buffer.from(fromChild[0]!.value).toString(), 'from the child')
  t.equal(toHex(fromChild[0]!.publicKey), hello.publicKey)

  const parentKey = randomBytes(32)
  const keyPair = Ed25519KeyPair.generate()
  const { stored } = await nodes[4]!.put('pairing', parentKey, utf8('from the parent'), {
    keyPair,
    ttlMs: 60_000,
  })
  t.ok(stored >= 10, `stored on ${stored}`)
  child.stdin.write(`${JSON.stringify({ get: toHex(parentKey) })}\n`)
  t.same(await next(), { values: ['from the parent'] })

  t.same(nodes[12]!.externalAddress(), nodes[12]!.address(), 'responders agree on our address')
  t.ok(equalBytes(nodes[12]!.id, nodes[12]!.id))
})

t.test('get stops at the first record on break; an aborted signal rejects with DHT_ABORTED', async (t) => {
  const first = await DhtNode.create({ host: '127.0.0.1' })
  const bootstrap = [`127.0.0.1:${first.address().port}`]
  const nodes = [
    first,
    ...(await Promise.all([1, 2, 3, 4].map(() => DhtNode.create({ host: '127.0.0.1', bootstrap })))),
  ]
  t.teardown(() => Promise.all(nodes.map((node) => node.close())))
  await Promise.all(nodes.map((node) => node.ready()))
  const key = randomBytes(32)
  for (const seed of [1, 2]) {
    const keyPair = Ed25519KeyPair.fromSeed(new Uint8Array(32).fill(seed))
    await nodes[1]!.put('pairing', key, utf8(`v${seed}`), { keyPair, ttlMs: 60_000 })
  }
  let seen = 0
  for await (const _record of nodes[3]!.get('pairing', key)) {
    seen++
    break
  }
  t.equal(seen, 1)
  t.equal((await collect(nodes[3]!.get('pairing', key))).length, 2, 'both publishers kept')
  const controller = new AbortController()
  controller.abort()
  await t.rejects(collect(nodes[2]!.findNode(key, { signal: controller.signal })), { code: 'DHT_ABORTED' })
  await t.rejects(nodes[2]!.put('nope', key, utf8('x'), { keyPair: Ed25519KeyPair.generate(), ttlMs: 1 }), {
    code: 'DHT_BAD_ARGUMENT',
  })
})

t.test('a publication is withdrawn with a signed delete', async (t) => {
  const first = await DhtNode.create({ host: '127.0.0.1' })
  const second = await DhtNode.create({ host: '127.0.0.1', bootstrap: [`127.0.0.1:${first.address().port}`] })
  t.teardown(() => Promise.all([first.close(), second.close()]))
  await second.ready()
  const key = randomBytes(32)
  const publication = second.publish('pairing', key, utf8('advert'), {
    keyPair: Ed25519KeyPair.generate(),
    ttlMs: 60_000,
  })
  t.equal((await publication.stored).stored, 1)
  t.equal((await collect(first.get('pairing', key)))[0]!.deleted, false)
  await publication.withdraw()
  const after = await collect(second.get('pairing', key))
  t.equal(after.length, 1)
  t.equal(after[0]!.deleted, true)
  t.equal(after[0]!.value.length, 0)
})

t.test('IPv6 loopback works like IPv4', async (t) => {
  const first = await DhtNode.create({ host: '::1' }).catch(() => null)
  if (first === null) {
    t.pass('no IPv6 loopback on this machine')
    return
  }
  const second = await DhtNode.create({ host: '::1', bootstrap: [`[::1]:${first.address().port}`] })
  t.teardown(() => Promise.all([first.close(), second.close()]))
  await second.ready()
  const key = randomBytes(32)
  await second.put('pairing', key, utf8('six'), { keyPair: Ed25519KeyPair.generate(), ttlMs: 60_000 })
  const records = await collect(first.get('pairing', key))
  t.equal(Buffer.from(records[0]!.value).toString(), 'six')
})

t.test('foreign datagrams reach the handler; malformed ones are counted, never thrown', async (t) => {
  const node = await DhtNode.create({ host: '127.0.0.1' })
  const client = dgram.createSocket('udp4')
  t.teardown(async () => {
    client.close()
    await node.close()
  })
  node.onForeignDatagram((data, _from, reply) => reply(Uint8Array.from([...data].reverse())))
  const stunLike = Uint8Array.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42])
  const echoed = new Promise<Buffer>((resolve) => client.once('message', resolve))
  client.send(stunLike, node.address().port, '127.0.0.1')
  t.same([...(await echoed)], [...stunLike].reverse())
  // The oversized junk starts like a CBOR map, so it is a malformed DHT datagram, never a foreign one.
  const oversized = randomBytes(1300)
  oversized[0] = 0xa0 | (oversized[0]! & 0x1f)
  for (const junk of [Uint8Array.of(0xa1, 0xff), oversized, Uint8Array.of(0xbf)])
    client.send(junk, node.address().port, '127.0.0.1')
  const deadline = Date.now() + 5_000
  while (node.stats().malformed < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  t.equal(node.stats().malformed, 3)
})

t.test('a saved routing table bootstraps a restarted node without a bootstrap list', async (t) => {
  const first = await DhtNode.create({ host: '127.0.0.1' })
  const bootstrap = [`127.0.0.1:${first.address().port}`]
  const others = await Promise.all([1, 2, 3].map(() => DhtNode.create({ host: '127.0.0.1', bootstrap })))
  const node = await DhtNode.create({ host: '127.0.0.1', bootstrap })
  t.teardown(() => Promise.all([first, ...others].map((n) => n.close())))
  await Promise.all([node, ...others].map((n) => n.ready()))
  const saved = JSON.parse(JSON.stringify(node.exportRoutingTable()))
  await node.close()
  t.ok(saved.nodes.length >= 1)
  const restarted = await DhtNode.create({ host: '127.0.0.1', routingTable: saved })
  t.teardown(() => restarted.close())
  await restarted.ready()
  t.ok((await collect(restarted.findNode(randomBytes(32)))).length >= 3, 'it found the network again')
  await t.rejects(
    DhtNode.create({ host: '127.0.0.1', routingTable: { version: 1, nodes: ['x'] } as never }),
    {
      code: 'DHT_BAD_TABLE',
    },
  )
})

t.test('a join nobody answers is retried, then ready() rejects with DHT_BOOTSTRAP_FAILED', async (t) => {
  const silent = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve))
  let requests = 0
  silent.on('message', () => requests++)
  t.teardown(() => new Promise<void>((resolve) => silent.close(() => resolve())))
  const node = await DhtNode.create({
    host: '127.0.0.1',
    bootstrap: [`127.0.0.1:${silent.address().port}`],
    limits: { joinBackoffMs: 20, minRtoMs: 10, maxRtoMs: 40 },
  })
  t.teardown(() => node.close())
  await t.rejects(node.ready(), { code: 'DHT_BOOTSTRAP_FAILED' })
  t.equal(requests, 15, 'the first join request and 4 retries, each sent once and retransmitted twice')
  t.equal(node.stats().tableSize, 0)
})
