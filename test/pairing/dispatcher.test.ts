import t from 'tap'
import { encodeCbor } from '../../lib/cbor.js'
import { randomBytes } from '../../lib/crypto/index.js'
import {
  decodeMessage,
  encodeMessage,
  openPairingChannel,
  PairingDispatcher,
  tcpConnect,
} from '../../lib/pairing/index.js'
import { listen } from './helpers/fakes.js'

/** Opens a pairing channel to the dispatcher's server, sends `bytes`, returns the reply. */
async function ask(port: number, bytes: Uint8Array): Promise<unknown> {
  const socket = await tcpConnect({ host: '127.0.0.1', port, transport: 'tcp' }, new AbortController().signal)
  const channel = await openPairingChannel(socket, { role: 'initiator' })
  await channel.send(bytes)
  for await (const reply of channel.messages()) {
    channel.close()
    return decodeMessage(reply)
  }
  return undefined
}

t.test('the dispatcher refuses what it cannot route, with a typed error message', async (t) => {
  const { server, port } = await listen(t)
  const dispatcher = PairingDispatcher.forServer(server, openPairingChannel)
  t.equal(PairingDispatcher.forServer(server, openPairingChannel), dispatcher, 'one per server')
  const hello = encodeMessage({ v: 2, type: 'hello', advert: randomBytes(32), share: randomBytes(32) })
  t.match(await ask(port, hello), { type: 'error', code: 'PAIRING_NOT_FOUND' })
  t.match(await ask(port, encodeMessage({ v: 2, type: 'share', share: randomBytes(32) })), {
    type: 'error',
    code: 'PAIRING_PROTOCOL',
  })
  t.match(await ask(port, encodeCbor({ v: 7, type: 'hello' })), {
    type: 'error',
    code: 'PAIRING_UNSUPPORTED_VERSION',
  })
  t.match(await ask(port, Uint8Array.of(0xff, 0x00)), { type: 'error', code: 'PAIRING_PROTOCOL' })
})

t.test('a retired session answers late joiners with its reason', async (t) => {
  const { server, port } = await listen(t)
  const dispatcher = PairingDispatcher.forServer(server, openPairingChannel)
  const advert = randomBytes(32)
  const routed: string[] = []
  dispatcher.register(advert, ({ channel }) => {
    routed.push('routed')
    channel.close()
  })
  dispatcher.unregister(advert, 'PAIRING_CODE_BURNED')
  const hello = encodeMessage({ v: 2, type: 'hello', advert, share: randomBytes(32) })
  t.match(await ask(port, hello), { type: 'error', code: 'PAIRING_CODE_BURNED' })
  t.same(routed, [])
})
