/**
 * Reconnect hole punching's signalling (`spec/holepunch.md` §4.1), over an in-memory DHT and a loopback
 * STUN server: a device answers the punch requests of exactly the paired devices it is told to, under
 * the key its peer asks under (this epoch, this direction); the punched connection itself needs NATs
 * and runs in the lab (test/lab/holepunch.test.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { SecureChannel } from '../../lib/channel/index.js'
import { Ed25519KeyPair, toHex } from '../../lib/crypto/index.js'
import {
  openMessage,
  type PunchDht,
  type PunchDhtRecord,
  type PunchMessage,
  presenceKeys,
  presencePunchKey,
  recordSalt,
} from '../../lib/holepunch/index.js'
import {
  PunchAnswerer,
  punchEpochs,
  reconnectPollInterval,
  reconnectPunches,
} from '../../lib/node/punches.js'
import type { PairedDevice } from '../../lib/pairing/store.js'
import { epochOf } from '../../lib/presence/index.js'
import { startStunServer } from '../../lib/stun/index.js'

const HOUR = 3_600_000

t.test(
  'the punch epochs: the current one twice, or across the nearer boundary within 5 minutes',
  async (t) => {
    const start = 493_000 * HOUR
    t.same(punchEpochs(start + HOUR / 2), [493_000, 493_000], 'mid-epoch: one key')
    t.same(punchEpochs(start + 4 * 60_000), [493_000, 492_999], 'just after a boundary: the previous too')
    t.same(punchEpochs(start + HOUR - 4 * 60_000), [493_000, 493_001], 'just before one: the next too')
    t.same(punchEpochs(start + 6 * 60_000), [493_000, 493_000], 'outside the margin: one key')
    t.same(punchEpochs(10_000 + 100, 10_000), [1, 0], 'a short epoch: the margin is a quarter of it')
    t.same(punchEpochs(10_000 + 2_600, 10_000), [1, 1])
  },
)

/** An in-memory DHT: records per (namespace, key), one per publisher key. */
class MemoryDht implements PunchDht {
  readonly records = new Map<string, Map<string, PunchDhtRecord>>()

  /** Every key asked for, as a node on every lookup path would record it. */
  readonly asked: string[] = []

  async *get(namespace: string, key: Uint8Array): AsyncIterable<PunchDhtRecord> {
    this.asked.push(toHex(key))
    yield* [...(this.records.get(`${namespace}/${toHex(key)}`)?.values() ?? [])]
  }

  publish(namespace: string, key: Uint8Array, value: Uint8Array, options: { keyPair: Ed25519KeyPair }) {
    const slot = `${namespace}/${toHex(key)}`
    const records = this.records.get(slot) ?? new Map<string, PunchDhtRecord>()
    this.records.set(slot, records)
    const publisher = toHex(options.keyPair.publicKey)
    records.set(publisher, { publicKey: options.keyPair.publicKey, value, deleted: false })
    return { stored: Promise.resolve(), withdraw: async () => void records.delete(publisher) }
  }

  /** Every message under `key` that opens with the pair's keys, as sent by `from`. */
  opened(key: Uint8Array, secret: Uint8Array, from: 'requester' | 'responder'): PunchMessage[] {
    return [...(this.records.get(`pairing/${toHex(key)}`)?.values() ?? [])].flatMap(({ value }) => {
      try {
        return [openMessage(key, presenceKeys(secret, recordSalt(value)), from, value)]
      } catch {
        return []
      }
    })
  }
}

function device(identityKey: Uint8Array, presenceSecret: Uint8Array, name: string): PairedDevice {
  return {
    deviceId: name,
    identityKey,
    name,
    type: 'laptop',
    pairedAt: 0,
    addresses: [],
    presenceSecret,
  }
}

t.test('a device answers the punches of the paired devices it waits for, and only theirs', async (t) => {
  const stun = await startStunServer({ primary: { host: '127.0.0.1', port: 0 }, tcp: false })
  t.teardown(() => stun.close())
  const dht = new MemoryDht()
  const parts = { dht, stunServer: stun.primary, localAddress: '127.0.0.1' }
  const alice = Ed25519KeyPair.generate().publicKey
  const bob = Ed25519KeyPair.generate().publicKey
  const carol = Ed25519KeyPair.generate().publicKey
  const aliceBob = new Uint8Array(32).fill(1)
  const carolBob = new Uint8Array(32).fill(2)

  const answerer = new PunchAnswerer({ parts, identityKey: bob, accept: (socket) => socket.destroy() })
  t.teardown(() => answerer.close())
  answerer.answer([device(alice, aliceBob, 'alice'), device(carol, carolBob, 'carol')])
  t.same(answerer.answering(), ['alice', 'carol'])
  answerer.answer([device(alice, aliceBob, 'alice')])
  t.same(answerer.answering(), ['alice'], 'carol got linked: her punches are no longer answered')

  const controller = new AbortController()
  t.teardown(() => controller.abort())
  const secure = async (): Promise<SecureChannel> => {
    throw new Error('never secured here')
  }
  const ask = (secret: Uint8Array) => {
    // Alice's (and carol's) view of bob: his identity key and their pair's secret.
    const [first] = reconnectPunches(parts, device(bob, secret, 'bob'), secure, controller.signal)
    first!.run(controller.signal).catch(() => {})
  }
  ask(aliceBob)
  ask(carolBob)

  const epoch = epochOf(Date.now())
  const aliceKey = presencePunchKey(aliceBob, bob, epoch)
  const carolKey = presencePunchKey(carolBob, bob, epoch)
  let answers: PunchMessage[] = []
  for (let waited = 0; answers.length === 0 && waited < 10_000; waited += 100) {
    await sleep(100)
    answers = dht.opened(aliceKey, aliceBob, 'responder')
  }
  const [request] = dht.opened(aliceKey, aliceBob, 'requester')
  t.match(request, { t: 'req', addr: { host: '127.0.0.1' } }, "alice's request is under bob's key")
  t.match(answers, [{ t: 'ans', n: request?.n, addr: { host: '127.0.0.1' } }], 'bob answered it')
  t.equal(dht.opened(carolKey, carolBob, 'requester').length, 1, "carol's request is there too")
  t.same(dht.opened(carolKey, carolBob, 'responder'), [], 'and unanswered')
  t.same(
    dht.opened(presencePunchKey(aliceBob, alice, epoch), aliceBob, 'requester'),
    [],
    "nothing under alice's own key: the direction is in the key",
  )
})

t.test('a DHT node seeing every poll learns keys that change each epoch and differ per pair', async (t) => {
  const stun = await startStunServer({ primary: { host: '127.0.0.1', port: 0 }, tcp: false })
  t.teardown(() => stun.close())
  const dht = new MemoryDht()
  const bob = Ed25519KeyPair.generate().publicKey
  const peers = [Ed25519KeyPair.generate().publicKey, Ed25519KeyPair.generate().publicKey]
  const epochMs = 1_500
  const answerer = new PunchAnswerer({
    parts: { dht, stunServer: stun.primary },
    identityKey: bob,
    accept: (socket) => socket.destroy(),
    epochMs,
  })
  t.teardown(() => answerer.close())
  answerer.answer(peers.map((key, i) => device(key, new Uint8Array(32).fill(i + 1), `peer${i}`)))
  await sleep(3 * epochMs)
  answerer.close()
  const keys = new Set(dht.asked)
  t.ok(keys.size >= 4, `${keys.size} keys over about three epochs for two peers`)
  const identities = [bob, ...peers].map(toHex)
  t.notOk(
    [...keys].some((key) => identities.includes(key)),
    'no identity key is ever asked for',
  )
  // Two peers, so four or more keys: the key changed with the epoch; each is one pair's of one epoch.
  t.ok(
    [...keys].every((key) =>
      peers.some((_, i) =>
        Array.from({ length: 6 }, (_, e) => epochOf(Date.now(), epochMs) - e).some(
          (epoch) => toHex(presencePunchKey(new Uint8Array(32).fill(i + 1), bob, epoch)) === key,
        ),
      ),
    ),
    'each key is a pair’s key of one epoch',
  )
})

t.test('the reconnect poll schedule: every second, every 4 s after two quiet minutes', async (t) => {
  t.equal(reconnectPollInterval(0), 1_000)
  t.equal(reconnectPollInterval(119_999), 1_000)
  t.equal(reconnectPollInterval(120_000), 4_000)
  t.equal(reconnectPollInterval(24 * HOUR), 4_000, 'a device offline for a day: a GET every 4 s')
})

/** A PunchAnswerer for `bob` whose poll schedule records the quiet time it is asked for. */
async function scheduledAnswerer(t: { teardown(fn: () => unknown): void }, epochMs?: number) {
  const stun = await startStunServer({ primary: { host: '127.0.0.1', port: 0 }, tcp: false })
  t.teardown(() => stun.close())
  const dht = new MemoryDht()
  const parts = { dht, stunServer: stun.primary, localAddress: '127.0.0.1' }
  const bob = Ed25519KeyPair.generate().publicKey
  const quiets: number[] = []
  const answerer = new PunchAnswerer({
    parts,
    identityKey: bob,
    accept: (socket) => socket.destroy(),
    epochMs,
    pollInterval: (quietMs) => {
      quiets.push(quietMs)
      return quietMs < 300 ? 20 : 60
    },
  })
  t.teardown(() => answerer.close())
  return { dht, parts, bob, quiets, answerer }
}

t.test('the quiet clock runs across epochs: a new epoch key is polled slowly too', async (t) => {
  const { quiets, answerer } = await scheduledAnswerer(t, 250)
  const alice = Ed25519KeyPair.generate().publicKey
  answerer.answer([device(alice, new Uint8Array(32).fill(1), 'alice')])
  await sleep(1_000)
  answerer.close()
  t.ok(
    quiets.every((quiet, i) => i === 0 || quiet >= quiets[i - 1]!),
    'never reset without a request, over about four epochs',
  )
  t.ok(quiets.at(-1)! >= 800, `quiet for ${Math.round(quiets.at(-1)!)} ms by the end`)
})

t.test("a paired device's request makes the polling fast again", async (t) => {
  const { dht, parts, bob, quiets, answerer } = await scheduledAnswerer(t)
  const alice = Ed25519KeyPair.generate().publicKey
  const secret = new Uint8Array(32).fill(1)
  answerer.answer([device(alice, secret, 'alice')])
  await sleep(500)
  const quietBefore = quiets.at(-1)!
  t.ok(quietBefore >= 300, 'quiet, so polling slowly, before the request')
  const controller = new AbortController()
  t.teardown(() => controller.abort())
  const secure = async (): Promise<SecureChannel> => {
    throw new Error('never secured here')
  }
  const [first] = reconnectPunches(parts, device(bob, secret, 'bob'), secure, controller.signal)
  first!.run(controller.signal).catch(() => {})
  const key = presencePunchKey(secret, bob, epochOf(Date.now()))
  for (let waited = 0; dht.opened(key, secret, 'responder').length === 0 && waited < 10_000; waited += 20)
    await sleep(20)
  t.equal(dht.opened(key, secret, 'responder').length, 1, 'bob answered')
  const after = quiets.length
  await sleep(100)
  t.ok(
    quiets.slice(after).some((quiet) => quiet < 300),
    `the quiet clock restarted at the request: ${quiets.slice(after).map(Math.round)}`,
  )
})
