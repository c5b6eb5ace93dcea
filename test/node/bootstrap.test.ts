import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { isIPv6 } from 'node:net'
import t from 'tap'
import { DhtNode } from '../../lib/dht/node.js'
import { startBootstrapNode } from '../../lib/index.js'
import {
  Attr,
  decodeMessage,
  encodeMessage,
  findAttribute,
  StunClass,
  StunMethod,
  stunBinding,
} from '../../lib/stun/index.js'

t.test('startBootstrapNode serves the DHT and STUN on one UDP port', async (t) => {
  const bootstrap = await startBootstrapNode({ host: '127.0.0.1' })
  t.teardown(() => bootstrap.close())
  t.same(bootstrap.addresses(), [{ host: '127.0.0.1', port: bootstrap.port }])

  const node = await DhtNode.create({ host: '127.0.0.1', bootstrap: [`127.0.0.1:${bootstrap.port}`] })
  t.teardown(() => node.close())
  await node.ready()
  t.equal(node.stats().tableSize, 1, 'a node joins through it')

  const binding = await stunBinding({ host: '127.0.0.1', port: bootstrap.port })
  t.equal(binding.mapped.host, '127.0.0.1', 'STUN on the same port names the asker')
  t.equal(bootstrap.stats().stun[0]?.answered, 1)
  t.ok(bootstrap.stats().dht.requestsServed > 0)
})

/** Sends `request` to 127.0.0.1 / ::1 `port` from a fresh UDP socket; resolves with the one reply. */
async function udpExchange(host: string, port: number, request: Uint8Array): Promise<Buffer> {
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4')
  try {
    const reply = once(socket, 'message') as Promise<[Buffer]>
    socket.send(request, port, host)
    return (await reply)[0]
  } finally {
    socket.close()
  }
}

for (const host of ['127.0.0.1', '::1'])
  t.test(
    `STUN on the DHT port (${host}) answers at most 3x its request, and still names the asker`,
    async (t) => {
      const bootstrap = await startBootstrapNode({ host })
      t.teardown(() => bootstrap.close())
      const transactionId = new Uint8Array(12).fill(9)
      for (const [kind, cookie] of [
        ['RFC 8489', undefined],
        ['classic', 0x01020304],
      ] as const) {
        const request = encodeMessage({
          method: StunMethod.binding,
          cls: StunClass.request,
          transactionId,
          attributes: [],
          ...(cookie === undefined ? {} : { cookie }),
        })
        const reply = await udpExchange(host, bootstrap.port, request)
        t.ok(reply.length <= 3 * request.length, `${kind}: ${reply.length} bytes for ${request.length}`)
        const decoded = decodeMessage(reply, { allowClassic: true })
        const mapped = findAttribute(
          decoded,
          cookie === undefined ? Attr.xorMappedAddress : Attr.mappedAddress,
        )
        t.ok(mapped, `${kind}: the answer still carries the mapped address`)
      }
    },
  )

t.test('a STUN flood on the DHT port is rate limited with the DHT requests of its source', async (t) => {
  const bootstrap = await startBootstrapNode({ host: '127.0.0.1' })
  t.teardown(() => bootstrap.close())
  const socket = createSocket('udp4')
  t.teardown(() => socket.close())
  let replies = 0
  socket.on('message', () => replies++)
  const request = encodeMessage({
    method: StunMethod.binding,
    cls: StunClass.request,
    transactionId: new Uint8Array(12).fill(3),
    attributes: [],
  })
  const started = performance.now()
  for (let i = 0; i < 2_000; i++) socket.send(request, bootstrap.port, '127.0.0.1')
  await new Promise((resolve) => setTimeout(resolve, 300))
  const seconds = (performance.now() - started) / 1000
  // The DHT's per-source budget (spec/dht.md §8.2): a burst of 200, then 100 a second.
  t.ok(replies >= 100, `${replies} of 2,000 answered: the burst is served`)
  t.ok(replies <= 200 + 100 * seconds + 1, `${replies} of 2,000 answered in ${seconds.toFixed(2)} s`)
  t.equal(bootstrap.stats().stun[0]?.answered, replies, 'the STUN server never saw the rest')
  t.ok(bootstrap.stats().dht.rateLimited > 0, 'the rest counted as rate limited')
  const fresh = await stunBinding({ host: '127.0.0.1', port: bootstrap.port })
  t.equal(fresh.mapped.host, '127.0.0.1', 'another source is still answered')
})
