import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { deviceIdFromPublicKey } from '../../lib/identity/index.js'
import {
  decodeMessage,
  joinPairing,
  openPairingChannel,
  PairedDeviceStore,
  type PairingChannel,
  tcpConnect,
} from '../../lib/pairing/index.js'
import { startAdvertiser as advertise, identity, listen, wrongSecret } from './helpers/fakes.js'

/** Relays messages from one channel to the other, recording their types. */
async function relay(from: PairingChannel, to: PairingChannel, seen: string[]): Promise<void> {
  try {
    for await (const message of from.messages()) {
      seen.push(decodeMessage(message).type)
      await to.send(message)
    }
  } catch {}
  to.close()
}

t.test(
  'a man in the middle running two Noise sessions fails confirmation and learns no device info',
  async (t) => {
    const { dht, port, advertiser } = await advertise(t)
    const seen: string[] = []
    const relayServer = await listen(t)
    relayServer.server.on('connection', async (socket) => {
      const fromJoiner = await openPairingChannel(socket, { role: 'responder' })
      const upstream = await tcpConnect(
        { host: '127.0.0.1', port, transport: 'tcp' },
        new AbortController().signal,
      )
      const toAdvertiser = await openPairingChannel(upstream, { role: 'initiator' })
      await Promise.all([relay(fromJoiner, toAdvertiser, seen), relay(toAdvertiser, fromJoiner, seen)])
    })
    const joiner = joinPairing({
      identity: identity(),
      dht,
      code: advertiser.code,
      deviceInfo: { name: 'bob', type: 'mobile' },
      // The attacker controls the path: every connection lands on the relay.
      connect: (_address, signal) =>
        tcpConnect({ host: '127.0.0.1', port: relayServer.port, transport: 'tcp' }, signal),
    })
    await t.rejects(joiner.result, { code: 'PAIRING_WRONG_CODE' })
    await t.rejects(advertiser.result, { code: 'PAIRING_CODE_BURNED' })
    t.same(seen, ['hello', 'share', 'confirm', 'error'], 'no accept (device info) ever crossed the relay')
  },
)

t.test(
  'an attacker who connects first with a guess burns the code; the real joiner is told clearly',
  async (t) => {
    const { dht, advertiser } = await advertise(t)
    const attacker = joinPairing({
      identity: identity(),
      dht,
      code: wrongSecret(advertiser.code),
      deviceInfo: { name: 'x', type: 'y' },
    })
    const real = joinPairing({
      identity: identity(),
      dht,
      code: advertiser.code,
      deviceInfo: { name: 'bob', type: 'y' },
      // Resolved the advert already; connects only after the attacker's guess was judged.
      connect: async (address, signal) => {
        await attacker.result.catch(() => {})
        return tcpConnect(address, signal)
      },
    })
    await t.rejects(attacker.result, { code: 'PAIRING_WRONG_CODE' })
    await t.rejects(real.result, { code: 'PAIRING_CODE_BURNED', message: /new code/ })
    await t.rejects(advertiser.result, { code: 'PAIRING_CODE_BURNED' })
  },
)

t.test('a restart mid-pairing leaves both stores as they were and loadable', async (t) => {
  const dirs = await Promise.all([
    mkdtemp(join(tmpdir(), 'pairctl-r1-')),
    mkdtemp(join(tmpdir(), 'pairctl-r2-')),
  ])
  t.teardown(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true }))))
  const [storeA, storeB] = await Promise.all(dirs.map((dir) => PairedDeviceStore.open(dir)))
  const earlier = identity()
  const known = {
    deviceId: deviceIdFromPublicKey(earlier.publicKey),
    identityKey: earlier.publicKey,
    name: 'old',
    type: 'y',
    pairedAt: 1,
    addresses: [],
  }
  await storeA!.add(known)
  const { dht, advertiser } = await advertise(t, {
    store: storeA,
    confirm: () => new Promise<boolean>(() => {}),
  })
  const joiner = joinPairing({
    identity: identity(),
    dht,
    code: advertiser.code,
    deviceInfo: { name: 'b', type: 'y' },
    store: storeB,
  })
  for await (const event of joiner.events) if (event.type === 'sas') break
  // A crash mid-write leaves at most a temp file beside devices.json; the store never reads it.
  await writeFile(join(dirs[0]!, 'devices.json.tmp-99-1'), '{"version":1,"devi')
  advertiser.cancel()
  await t.rejects(joiner.result, { code: 'PAIRING_CANCELLED' })
  const [reA, reB] = await Promise.all(dirs.map((dir) => PairedDeviceStore.open(dir)))
  t.same(
    reA!.list().map((d) => d.name),
    ['old'],
  )
  t.same(reB!.list(), [])
  t.ok((await readdir(dirs[1]!)).every((f) => !f.includes('corrupt')))
})
