import t from 'tap'
import { DhtNode } from '../../lib/dht/node.js'
import { startBootstrapNode } from '../../lib/index.js'
import { stunBinding } from '../../lib/stun/index.js'

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
