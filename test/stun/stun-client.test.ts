import { execFile } from 'node:child_process'
import dgram from 'node:dgram'
import net from 'node:net'
import t from 'tap'
import {
  classifyNat,
  isStunMessage,
  type RunningStunServer,
  StunError,
  StunServer,
  startStunServer,
  stunBinding,
} from '../../lib/stun/index.js'
import { type Coturn, ensureCommand, freePort, startCoturn } from './helpers/real-peers.js'

let ours: RunningStunServer
let coturn: Coturn
t.before(async () => {
  ensureCommand('stun', 'stun-client')
  ours = await startStunServer({
    primary: { host: '127.0.0.1', port: 0 },
    alternate: { host: '127.0.0.2', port: 0 },
  })
  coturn = await startCoturn(['127.0.0.1', '127.0.0.2'])
})
t.teardown(async () => {
  await ours?.close()
  await coturn?.stop()
})

/** Runs the Debian `stun` client (RFC 3489 classic) against `port` from `srcPort`. */
function debianStun(port: number, srcPort: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const args = [`127.0.0.1:${port}`, '-v', '-p', String(srcPort)]
    execFile('stun', args, { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error && typeof error.code === 'number' ? error.code : error ? -1 : 0
      resolve({ code, output: stdout + stderr })
    })
  })
}

t.test(
  'the Debian stun client sees our server exactly as it sees coturn: Open, same exit code',
  async (t) => {
    const srcPort = await freePort()
    const ourRun = await debianStun(ours.primary.port, srcPort)
    t.match(ourRun.output, `MappedAddress = 127.0.0.1:${srcPort}`)
    t.match(ourRun.output, `ChangedAddress = 127.0.0.2:${ours.alternate.port}`)
    t.match(ourRun.output, /Primary: Open/)
    const coturnRun = await debianStun(coturn.port, await freePort())
    t.match(coturnRun.output, /Primary: Open/)
    t.equal(ourRun.code, coturnRun.code, `exit code ${ourRun.code} (the client encodes the NAT type in it)`)
    t.ok(ours.counters.answered >= 4, 'tests I, II, III and I(2) were answered')
  },
)

t.test('our client against our server over UDP and TCP', async (t) => {
  const server = { host: '127.0.0.1', port: ours.primary.port }
  for (const transport of ['udp', 'tcp'] as const) {
    const localPort = await freePort()
    const result = await stunBinding(server, { transport, localPort, localAddress: '127.0.0.1' })
    t.same(result.mapped, { host: '127.0.0.1', port: localPort, family: 'IPv4' }, transport)
    t.equal(result.software, 'pairctl')
  }
})

t.test('CHANGE-REQUEST over UDP: the answer comes from 127.0.0.2 and the alternate port', async (t) => {
  const result = await stunBinding(
    { host: '127.0.0.1', port: ours.primary.port },
    { changeRequest: { ip: true, port: true } },
  )
  t.same(result.from, { host: '127.0.0.2', port: ours.alternate.port })
})

t.test('CHANGE-REQUEST over TCP is refused with 420', async (t) => {
  const error = await stunBinding(
    { host: '127.0.0.1', port: ours.primary.port },
    { transport: 'tcp', changeRequest: { port: true } },
  ).catch((e) => e)
  t.ok(error instanceof StunError)
  t.equal(error.code, 'STUN_ERROR_RESPONSE')
  t.equal(error.errorCode, 420)
})

t.test('garbage on our TCP port is counted and the connection closed', async (t) => {
  const socket = net.connect(ours.primary.port, '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  const dropped = ours.counters.dropped
  socket.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'))
  await new Promise((resolve) => socket.once('close', resolve))
  t.equal(ours.counters.dropped, dropped + 1)
})

t.test('classifyNat against our server: no NAT, endpoint-independent both ways', async (t) => {
  const result = await classifyNat(
    { host: '127.0.0.1', port: ours.primary.port },
    { localAddress: '127.0.0.1', rto: 100 },
  )
  t.equal(result.natPresent, false)
  t.equal(result.mapping, 'endpoint-independent')
  t.equal(result.filtering, 'endpoint-independent')
})

t.test('classifyNat against a single-address server: unknown, with the mapped address', async (t) => {
  const single = await startStunServer({ primary: { host: '127.0.0.1', port: 0 }, tcp: false })
  t.teardown(() => single.close())
  const socket = await freePort()
  const result = await classifyNat(single.primary, { localAddress: '127.0.0.1', localPort: socket })
  t.same(result.mappedAddress, { host: '127.0.0.1', port: socket, family: 'IPv4' })
  t.equal(result.mapping, 'unknown')
  t.equal(result.filtering, 'unknown')
})

t.test('IPv6 loopback: our client and server map [::1]:port', async (t) => {
  const v6 = await startStunServer({ primary: { host: '::1', port: 0 } })
  t.teardown(() => v6.close())
  for (const transport of ['udp', 'tcp'] as const) {
    const result = await stunBinding(v6.primary, { transport, localAddress: '::1' })
    t.same(result.mapped, { host: '::1', port: result.local.port, family: 'IPv6' }, transport)
  }
})

t.test(
  'a socket shared with a DHT: isStunMessage routes STUN to StunServer.handle, the rest to the DHT',
  async (t) => {
    const shared = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => shared.bind(0, '127.0.0.1', resolve))
    t.teardown(() => shared.close())
    const local = { host: '127.0.0.1', port: shared.address().port }
    const core = new StunServer({ primary: local })
    const dht: Buffer[] = []
    shared.on('message', (bytes, rinfo) => {
      if (!isStunMessage(bytes)) return void dht.push(bytes)
      const reply = core.handle(bytes, { host: rinfo.address, port: rinfo.port })
      if (reply) shared.send(reply, rinfo.port, rinfo.address)
    })
    const client = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve))
    t.teardown(() => client.close())
    client.send(Buffer.from([0xa2, 0x61, 0x76, 0x01]), local.port, local.host)
    const result = await stunBinding(local, { socket: client })
    t.same(result.mapped, { host: '127.0.0.1', port: client.address().port, family: 'IPv4' })
    t.same(result.responseOrigin, { ...local, family: 'IPv4' })
    t.equal(dht.length, 1, 'the CBOR datagram went to the DHT')
    t.equal(core.counters.answered, 1)
  },
)
