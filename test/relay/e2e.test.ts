import t from 'tap'
import { toHex, utf8 } from '../../lib/crypto/index.js'
import { dhtSeed, pairThroughRelay, relayOnlyDevice } from './helpers/devices.js'
import { RecordingCore, startRelay } from './helpers/relays.js'

/** Resolves once `check` holds, polling on `interval`; rejects after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

t.test('two devices with no address but the relay pair, link and exchange messages through it', async (t) => {
  const core = new RecordingCore()
  const { address: relay } = await startRelay(t, { core })
  const bootstrap = await dhtSeed(t)
  const alice = await relayOnlyDevice(t, 'alice', bootstrap, [relay])
  const bob = await relayOnlyDevice(t, 'bob', bootstrap, [relay])
  await pairThroughRelay(alice, bob)
  const connected = bob.events.find((event) => event.type === 'peer-connected')
  t.same(
    connected,
    { type: 'peer-connected', address: `127.0.0.1:${relay.port}`, relayed: true },
    'the joiner says relayed',
  )
  const advertised = alice.events.find((event) => event.type === 'peer-connected')
  t.match(
    advertised,
    { address: `relay:127.0.0.1:${relay.port}` },
    'the advertiser sees the circuit come from the relay',
  )
  t.equal(alice.store.list()[0]?.deviceId, bob.identity.deviceId)
  t.equal(bob.store.list()[0]?.deviceId, alice.identity.deviceId)

  await until(
    () => alice.links.isOnline(bob.identity.deviceId) && bob.links.isOnline(alice.identity.deviceId),
    60_000,
    'links',
  )
  t.ok(alice.links.isRelayed(bob.identity.deviceId), 'alice: the link is relayed')
  t.ok(bob.links.isRelayed(alice.identity.deviceId), 'bob: the link is relayed')
  const text = 'the eagle lands at noon, relay-secret-7f3a'
  const received = new Promise<string>((resolve) => bob.links.once('message', ({ text }) => resolve(text)))
  await alice.links.send(bob.identity.deviceId, text)
  t.equal(await received, text, 'the message crossed the relay')
  const reply = new Promise<string>((resolve) => alice.links.once('message', ({ text }) => resolve(text)))
  await bob.links.send(alice.identity.deviceId, 'ack from bob')
  t.equal(await reply, 'ack from bob')

  await t.test('the relay saw no plaintext, code material or identity', async (t) => {
    const capture = core.capture()
    t.ok(capture.length > 1_500, `the capture holds the whole exchange (${capture.length} bytes)`)
    const code = alice.events.find((event) => event.type === 'code')
    if (code?.type !== 'code') throw new Error('no code event')
    const secrets: [string, Uint8Array][] = [
      ...code.code.split(/[\s-]+/).map((word): [string, Uint8Array] => [`code word ${word}`, utf8(word)]),
      ['message text', utf8(text)],
      ['reply text', utf8('ack from bob')],
      ['device name', utf8('alice')],
      ['alice identity key', alice.identity.publicKey],
      ['bob identity key', bob.identity.publicKey],
      ['alice Noise static key', alice.identity.noiseKeyPair.publicKey],
      ['bob Noise static key', bob.identity.noiseKeyPair.publicKey],
      ['alice device ID', utf8(alice.identity.deviceId)],
      ['presence secret', alice.store.list()[0]!.presenceSecret!],
    ]
    for (const [what, bytes] of secrets)
      t.equal(capture.indexOf(Buffer.from(bytes)), -1, `${what} not in the capture`)
    t.equal(capture.indexOf(Buffer.from(toHex(alice.identity.publicKey))), -1, 'nor its hex form')
  })
})
