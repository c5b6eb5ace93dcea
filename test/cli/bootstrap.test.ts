import t from 'tap'
import { DhtNode } from '../../lib/dht/node.js'
import { stunBinding } from '../../lib/stun/index.js'
import { startBootstrap, tempHome } from './helpers/cli.js'

t.test('pairctl bootstrap serves the DHT and STUN on one UDP port', async (t) => {
  const home = await tempHome(t)
  const address = await startBootstrap(t, home)
  const port = Number(address.split(':')[1])
  const result = await stunBinding({ host: '127.0.0.1', port }, { localAddress: '127.0.0.1', rto: 200 })
  t.equal(result.mapped.host, '127.0.0.1', 'STUN reports our address')
  t.equal(result.mapped.port, result.local.port, 'no NAT on loopback: mapped port = local port')
  const node = await DhtNode.create({ host: '127.0.0.1', bootstrap: [address] })
  t.teardown(() => node.close())
  await node.ready()
  t.ok(node.stats().tableSize >= 1, 'a DHT node joins through it')
})
