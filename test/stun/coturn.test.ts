import dgram from 'node:dgram'
import t from 'tap'
import { classifyNat, StunError, stunBinding } from '../../lib/stun/index.js'
import { type Coturn, freePort, startCoturn } from './helpers/real-peers.js'

let coturn: Coturn
t.before(async () => {
  coturn = await startCoturn(['127.0.0.1', '127.0.0.2'])
})
t.teardown(() => coturn?.stop())

const server = () => ({ host: '127.0.0.1', port: coturn.port })

t.test('UDP Binding against coturn maps to our own 127.0.0.1:port', async (t) => {
  const localPort = await freePort()
  const result = await stunBinding(server(), { localPort, localAddress: '127.0.0.1' })
  t.same(result.mapped, { host: '127.0.0.1', port: localPort, family: 'IPv4' })
  t.same(result.local, { host: '127.0.0.1', port: localPort })
  t.equal(result.responseOrigin?.port, coturn.port, 'RESPONSE-ORIGIN is the port we asked')
  t.same(result.otherAddress, { host: '127.0.0.2', port: coturn.altPort, family: 'IPv4' }, 'OTHER-ADDRESS')
  t.ok(result.rttMs >= 0 && result.rttMs < 5000)
})

t.test('TCP Binding against coturn maps to the connection source port', async (t) => {
  const localPort = await freePort()
  const result = await stunBinding(server(), { transport: 'tcp', localPort, localAddress: '127.0.0.1' })
  t.same(result.mapped, { host: '127.0.0.1', port: localPort, family: 'IPv4' })
})

t.test(
  'a shared socket: only our transaction is consumed, the other listener still sees its traffic',
  async (t) => {
    const socket = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
    t.teardown(() => socket.close())
    const seenByDht: Buffer[] = []
    socket.on('message', (m) => seenByDht.push(m))
    const peer = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve))
    t.teardown(() => peer.close())
    const pending = stunBinding(server(), { socket })
    peer.send(Buffer.from('d1:ad2:id20:xxxxe1:q4:pinge'), socket.address().port, '127.0.0.1')
    const result = await pending
    t.equal(result.mapped.port, socket.address().port, 'mapping is the shared socket port')
    t.equal(socket.listenerCount('message'), 1, 'the STUN listener is removed afterwards')
    t.ok(
      seenByDht.some((m) => m.toString().includes('ping')),
      'the DHT datagram still reached the DHT',
    )
  },
)

t.test('CHANGE-REQUEST to coturn: answered from the other address and port', async (t) => {
  const result = await stunBinding(server(), { changeRequest: { ip: true, port: true } })
  t.same(result.from, { host: '127.0.0.2', port: coturn.altPort })
  t.equal(result.mapped.host, '127.0.0.1')
})

t.test('a port where nothing listens: STUN_TIMEOUT after the schedule (short RTO)', async (t) => {
  const port = await freePort()
  const started = performance.now()
  const error = await stunBinding({ host: '127.0.0.1', port }, { rto: 20, rc: 3, rm: 4 }).catch((e) => e)
  t.ok(error instanceof StunError)
  t.equal(error.code, 'STUN_TIMEOUT')
  t.ok(performance.now() - started >= 20 + 40 + 80 - 5, 'waited 20 + 40 + 4×20 ms')
})

t.test('TCP to a closed port: STUN_TRANSPORT', async (t) => {
  const port = await freePort()
  const error = await stunBinding({ host: '127.0.0.1', port }, { transport: 'tcp' }).catch((e) => e)
  t.equal(error.code, 'STUN_TRANSPORT')
})

t.test('an aborted signal rejects with STUN_ABORTED', async (t) => {
  const port = await freePort()
  const controller = new AbortController()
  const pending = stunBinding({ host: '127.0.0.1', port }, { signal: controller.signal })
  setTimeout(() => controller.abort(), 30)
  const error = await pending.catch((e) => e)
  t.equal(error.code, 'STUN_ABORTED')
})

t.test('classifyNat against coturn on 127.0.0.1 + 127.0.0.2: no NAT on loopback', async (t) => {
  const result = await classifyNat(server(), { localAddress: '127.0.0.1', rto: 100, rc: 3, rm: 4 })
  t.equal(result.natPresent, false)
  t.equal(result.mapping, 'endpoint-independent')
  t.equal(result.filtering, 'endpoint-independent')
  t.same(result.otherAddress, { host: '127.0.0.2', port: coturn.altPort, family: 'IPv4' })
})
