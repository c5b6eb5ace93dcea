/**
 * STUN and NAT classification in the namespace lab (spec/portmap.md §8, spec/stun.md): hosts behind
 * rtrA / rtrB learn their router's public address from coturn at 203.0.113.1 and classify the NAT with
 * RFC 5780 using coturn's second address 203.0.113.4. Plain masquerade is endpoint-independent mapping
 * with address-and-port-dependent filtering; `masquerade random` is address-and-port-dependent mapping.
 * The Debian `stun` client is the reference. Needs root; run with `npm run test:lab`.
 */
import t from 'tap'
import type { NatClassification, StunBindingResult } from '../../lib/stun/index.js'
import type { Agent, Lab } from './helpers/lab.js'
import { withLab } from './helpers/suite.js'

const coturn = { host: '203.0.113.1', port: 3478 }
// Short retransmission so filtering tests (which expect silence) end in about a second.
const fast = { rto: 100, rc: 3, rm: 4 }

await withLab('st', async (lab) => {
  const agents = {
    hostA: await lab.agent('hostA'),
    hostB: await lab.agent('hostB'),
    pub: await lab.agent('pub'),
  }
  t.teardown(async () => {
    for (const agent of Object.values(agents)) await agent.stop()
  })
  await runTests(lab, agents)
})

async function runTests(lab: Lab, agents: Record<'hostA' | 'hostB' | 'pub', Agent>): Promise<void> {
  const classify = (agent: Agent, options: Record<string, unknown> = {}) =>
    agent.call<NatClassification>('classifyNat', { server: coturn, options: { ...fast, ...options } })

  await t.test(
    'hostA learns rtrA public address over UDP, port preserved, with coturn other address',
    async (t) => {
      const result = await agents.hostA.call<StunBindingResult>('stunBinding', {
        server: coturn,
        options: { localPort: 45000 },
      })
      t.match(result.mapped, { family: 'IPv4', host: '203.0.113.2', port: 45000 })
      t.match(result.responseOrigin, { host: '203.0.113.1', port: 3478 })
      t.match(result.otherAddress, { host: '203.0.113.4', port: 3479 })
      t.match(result.software, /Coturn/)
    },
  )

  await t.test('hostA learns the same public address over TCP', async (t) => {
    const result = await agents.hostA.call<StunBindingResult>('stunBinding', {
      server: coturn,
      options: { transport: 'tcp' },
    })
    t.equal(result.mapped.host, '203.0.113.2')
  })

  await t.test(
    'behind plain masquerade: endpoint-independent mapping, address-and-port-dependent filtering',
    async (t) => {
      for (const [name, address] of [
        ['hostA', '203.0.113.2'],
        ['hostB', '203.0.113.3'],
      ] as const) {
        const nat = await classify(agents[name])
        t.equal(nat.mapping, 'endpoint-independent', `${name} mapping`)
        t.equal(nat.filtering, 'address-and-port-dependent', `${name} filtering`)
        t.equal(nat.mappedAddress.host, address, `${name} public address`)
        t.match(nat.otherAddress, { host: '203.0.113.4', port: 3479 })
      }
      const reference = lab.output('hostA', 'stun', ['203.0.113.1'])
      t.match(reference, /Independent Mapping, Port Dependent Filter/, 'Debian stun client agrees')
    },
  )

  await t.test('pub has no NAT: mapped address is its own, nothing filtered', async (t) => {
    const nat = await classify(agents.pub, { localAddress: '203.0.113.1' })
    t.equal(nat.natPresent, false)
    t.equal(nat.mapping, 'endpoint-independent')
    t.equal(nat.filtering, 'endpoint-independent')
  })

  await t.test('behind masquerade random (rtrB): address-and-port-dependent mapping', async (t) => {
    lab.script(['nat-b', 'random'])
    const nat = await classify(agents.hostB)
    t.equal(nat.mapping, 'address-and-port-dependent')
    t.equal(nat.mappedAddress.host, '203.0.113.3')
    t.match(lab.output('hostB', 'stun', ['203.0.113.1']), /Dependent Mapping/, 'Debian stun client agrees')
    lab.script(['nat-b', 'plain'])
    t.equal((await classify(agents.hostB)).mapping, 'endpoint-independent', 'back to plain')
  })
}
