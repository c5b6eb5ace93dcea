import { dhtSeed, relayOnlyDevice } from './test/relay/helpers/devices.js'
import { startRelay } from './test/relay/helpers/relays.js'
import { generatePairing, joinPairing } from './lib/pairing/index.js'
import { preambleConnector } from './lib/node/dial.js'
import { pairingConnector } from './lib/node/relay.js'
const downs: (() => unknown)[] = []
const t = { teardown: (fn: () => unknown) => void downs.push(fn) }
const { address: relay } = await startRelay(t, {})
const bootstrap = await dhtSeed(t)
const a = await relayOnlyDevice(t, 'alice', bootstrap, [relay])
const b = await relayOnlyDevice(t, 'bob', bootstrap, [relay])
const { address } = await a.relay.pairingAddress()
console.log(address)
const common = (d: any) => ({ identity: d.identity, dht: d.dht, store: d.store, deviceInfo: { name: d.name, type: 'laptop' } })
const adv = await generatePairing({ ...common(a), listener: a.dispatcher, addresses: [address!] })
const j = joinPairing({ ...common(b), code: adv.code, connect: preambleConnector('pairing', pairingConnector) })
console.log(await Promise.allSettled([adv.result, j.result]))
for (const d of downs.reverse()) await d()
