import t from 'tap'
import { classifyNatWith, StunServer } from '../../lib/stun/index.js'
import { type Behaviour, SimulatedNat, simulatedProbe } from './helpers/simulated-nat.js'

const primary = { host: '203.0.113.1', port: 3478 }
const internal = { host: '192.168.1.2', port: 5000 }
const behaviours: Behaviour[] = ['endpoint-independent', 'address-dependent', 'address-and-port-dependent']
const fullServer = () => new StunServer({ primary, alternate: { host: '203.0.113.4', port: 3479 } })

for (const mapping of behaviours) {
  for (const filtering of behaviours) {
    t.test(`RFC 5780 finds mapping ${mapping}, filtering ${filtering}`, async (t) => {
      const nat = new SimulatedNat('203.0.113.2', mapping, filtering)
      const result = await classifyNatWith(primary, simulatedProbe(nat, fullServer(), internal), internal)
      t.equal(result.mapping, mapping)
      t.equal(result.filtering, filtering)
      t.same(result.mappedAddress, { host: '203.0.113.2', port: 40000, family: 'IPv4' })
      t.equal(result.natPresent, true)
      t.same(result.otherAddress, { host: '203.0.113.4', port: 3479, family: 'IPv4' })
    })
  }
}

t.test('no NAT: the mapped address is the local one', async (t) => {
  const open = { host: '203.0.113.9', port: 5000 }
  const result = await classifyNatWith(primary, simulatedProbe(null, fullServer(), open), open)
  t.equal(result.natPresent, false)
  t.equal(result.mapping, 'endpoint-independent')
  t.equal(result.filtering, 'endpoint-independent')
})

t.test('a server without an alternate address: both unknown, mapped address still found', async (t) => {
  const nat = new SimulatedNat('203.0.113.2', 'endpoint-independent', 'endpoint-independent')
  const result = await classifyNatWith(primary, simulatedProbe(nat, new StunServer({ primary }), internal))
  t.equal(result.mapping, 'unknown')
  t.equal(result.filtering, 'unknown')
  t.equal(result.natPresent, undefined, 'local address not given')
  t.equal(result.mappedAddress.port, 40000)
})

t.test('an alternate port only: mapping unknown (needs a second IP), filtering 420 → unknown', async (t) => {
  const nat = new SimulatedNat('203.0.113.2', 'address-dependent', 'address-dependent')
  const server = new StunServer({ primary, alternate: { port: 3479 } })
  const result = await classifyNatWith(primary, simulatedProbe(nat, server, internal), internal)
  t.equal(result.mapping, 'unknown')
  t.equal(result.filtering, 'unknown')
})

t.test('a server that never answers: STUN_TIMEOUT', async (t) => {
  const error = await classifyNatWith(primary, async () => null).then(
    () => null,
    (e) => e,
  )
  t.equal(error?.code, 'STUN_TIMEOUT')
})

t.test('filtering runs before mapping, so test II of mapping cannot open the filter early', async (t) => {
  const nat = new SimulatedNat('203.0.113.2', 'endpoint-independent', 'address-dependent')
  const seen: string[] = []
  const probe = simulatedProbe(nat, fullServer(), internal)
  await classifyNatWith(primary, (to, change) => {
    seen.push(
      `${to.host}:${to.port}${change ? ` change ${change.ip ? 'ip' : ''}${change.port ? 'port' : ''}` : ''}`,
    )
    return probe(to, change)
  })
  t.same(seen, [
    '203.0.113.1:3478',
    '203.0.113.1:3478 change ipport',
    '203.0.113.1:3478 change port',
    '203.0.113.4:3478',
  ])
})
