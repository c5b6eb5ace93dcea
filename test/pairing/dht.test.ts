import t from 'tap'
import { DhtNode } from '../../lib/dht/node.js'
import { generatePairing, joinPairing, type PairingSession, parseCode } from '../../lib/pairing/index.js'
import { identity, listen } from './helpers/fakes.js'

/**
 * Five DHT nodes on 127.0.0.1 (real UDP), closed at test end. Returns the four that joined through the
 * first: the bootstrap node's own table fills only as the others' pings arrive.
 */
async function network(t: { teardown(fn: () => unknown): void }): Promise<DhtNode[]> {
  const first = await DhtNode.create({ host: '127.0.0.1' })
  const bootstrap = [`127.0.0.1:${first.address().port}`]
  const rest = await Promise.all([1, 2, 3, 4].map(() => DhtNode.create({ host: '127.0.0.1', bootstrap })))
  const nodes = [first, ...rest]
  t.teardown(() => Promise.all(nodes.map((node) => node.close())))
  await Promise.all(nodes.map((node) => node.ready()))
  return rest
}

async function advertise(t: { teardown(fn: () => unknown): void }, dht: DhtNode): Promise<PairingSession> {
  const { server, port } = await listen(t)
  const session = await generatePairing({
    identity: identity(),
    dht,
    listener: server,
    addresses: [{ host: '127.0.0.1', port }],
    deviceInfo: { name: 'alice', type: 'desktop' },
  })
  t.teardown(() => session.cancel())
  return session
}

t.test('pairing through a real DHT over UDP and TCP on loopback', async (t) => {
  const [a, b, c] = await network(t)
  const advertiser = await advertise(t, a!)
  const joiner = joinPairing({
    identity: identity(),
    dht: b!,
    code: advertiser.code,
    deviceInfo: { name: 'bob', type: 'm' },
  })
  t.equal((await joiner.result).name, 'alice')
  t.equal((await advertiser.result).name, 'bob')
  const late = joinPairing({
    identity: identity(),
    dht: c!,
    code: advertiser.code,
    deviceInfo: { name: 'x', type: 'm' },
  })
  await t.rejects(
    late.result,
    { code: 'PAIRING_NOT_FOUND', message: /no longer valid/ },
    'withdrawn: tombstone seen',
  )
})

t.test(
  'a DHT node holding the advert and the rendezvous words, without the secret, burns but cannot pair',
  async (t) => {
    const [a, , , storer] = await network(t)
    const advertiser = await advertise(t, a!)
    const rendezvous = parseCode(advertiser.code).rendezvous
    const guess = [...rendezvous, 'zoo', 'zoo', 'zoo'].join(' ')
    const attacker = joinPairing({
      identity: identity(),
      dht: storer!,
      code: guess,
      deviceInfo: { name: 'e', type: 'm' },
    })
    await t.rejects(attacker.result, { code: 'PAIRING_WRONG_CODE' })
    await t.rejects(advertiser.result, { code: 'PAIRING_CODE_BURNED' })
  },
)
