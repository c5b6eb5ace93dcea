/**
 * Acknowledged messages over links that fail (`spec/transfer.md` §3), two devices' {@link DeviceStreams}
 * joined by in-memory links: a link can lose everything sent on it without closing, as a TCP connection
 * does when a router changes its mapping under it.
 */
import t from 'tap'
import type { MessageBytes } from '../../lib/channel/index.js'
import { type DeliveredMessage, DeviceStreams, Messages } from '../../lib/transfer/index.js'
import { joined } from './helpers/frames.js'

/** One device's streams and messages, and what it received. */
function device() {
  const streams = new DeviceStreams()
  const messages = new Messages(streams)
  const received: DeliveredMessage[] = []
  messages.on('message', (message) => received.push(message))
  return { streams, messages, received }
}

type Device = ReturnType<typeof device>

/** A link between `a` (device "a") and `b` (device "b"); `blackhole()` drops all it carries from then on. */
function link(a: Device, b: Device) {
  let carrying = true
  const ends: { a?: ReturnType<DeviceStreams['tenants']>; b?: ReturnType<DeviceStreams['tenants']> } = {}
  const close = () => {
    ends.a?.close()
    ends.b?.close()
  }
  const carry = (to: 'a' | 'b') => async (message: MessageBytes) => {
    if (carrying) setImmediate(() => ends[to]?.receive(joined(message)))
  }
  ends.a = a.streams.tenants('b', { send: carry('b'), cut: close })
  ends.b = b.streams.tenants('a', { send: carry('a'), cut: close })
  return {
    blackhole: () => {
      carrying = false
    },
    close,
  }
}

/** Keeps the process alive until the test ends: the multiplexer's request timers do not. */
function keepAlive(t: { teardown(fn: () => void): void }): void {
  const timer = setInterval(() => {}, 1000)
  t.teardown(() => clearInterval(timer))
}

/** Resolves after the microtasks and immediates queued so far ran. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10))

t.test('a message is acknowledged over a working link, once, with no retry', async (t) => {
  const [a, b] = [device(), device()]
  const joined = link(a, b)
  t.teardown(joined.close)
  await settle()
  await a.messages.send('b', 'hello')
  t.same(
    b.received.map((message) => [message.deviceId, message.text]),
    [['a', 'hello']],
  )
  t.equal(a.messages.retries, 0)
})

t.test('a link that silently lost the message is replaced: it goes out on the new one at once', async (t) => {
  const [a, b] = [device(), device()]
  const dead = link(a, b)
  await settle()
  dead.blackhole()
  // A window shorter than one acknowledgement timeout: only a resend on the new link can deliver it.
  const sending = a.messages.send('b', 'through the change', 5_000)
  await settle()
  t.same(b.received, [], 'the dead link lost it')
  const fresh = link(a, b)
  t.teardown(() => {
    dead.close()
    fresh.close()
  })
  await sending
  t.same(
    b.received.map((message) => message.text),
    ['through the change'],
    'it arrived over the new link',
  )
  t.equal(a.messages.retries, 1, 'sent twice: once on each link')
})

t.test('a message sent again after its link closed is shown once', async (t) => {
  const [a, b] = [device(), device()]
  const first = link(a, b)
  await settle()
  // b receives and acknowledges, but the acknowledgement is lost with the link.
  const sending = a.messages.send('b', 'once')
  await new Promise((resolve) => b.messages.once('message', () => resolve(first.blackhole())))
  first.close()
  const second = link(a, b)
  t.teardown(second.close)
  await sending
  t.same(
    b.received.map((message) => message.text),
    ['once'],
    'the retry with the same id is not shown again',
  )
  t.equal(a.messages.retries, 1)
})

t.test('with no new link within the window the sender gets MESSAGE_UNDELIVERED', async (t) => {
  const [a, b] = [device(), device()]
  const only = link(a, b)
  await settle()
  only.blackhole()
  const sending = a.messages.send('b', 'into the void', 50)
  only.close()
  await t.rejects(sending, { code: 'MESSAGE_UNDELIVERED' })
  t.same(b.received, [])
})

t.test('a request timed out on a silent link cuts it: the device is offline until relinked', async (t) => {
  const [a, b] = [device(), device()]
  keepAlive(t)
  const dead = link(a, b)
  let cuts = 0
  await settle()
  dead.blackhole()
  a.streams.once('unlinked', () => cuts++)
  await t.rejects(a.streams.request('b', { t: 'anything' }, 50), { code: 'STREAM_TIMEOUT' })
  t.equal(cuts, 1, 'the link was cut')
  t.equal(a.streams.silentLinks, 1)
  t.equal(a.streams.mux('b'), undefined, 'no link to b is left')
  // The device reads as offline now, not online over a dead link, and is linked again when it returns.
  await t.rejects(a.messages.send('b', 'into the dead link'), { code: 'PRESENCE_OFFLINE' })
  const fresh = link(a, b)
  t.teardown(fresh.close)
  await a.messages.send('b', 'over the new link')
  t.same(
    b.received.map((message) => message.text),
    ['over the new link'],
  )
})

t.test('a request unanswered by a peer that is heard from meanwhile keeps the link', async (t) => {
  const [a, b] = [device(), device()]
  keepAlive(t)
  const only = link(a, b)
  t.teardown(only.close)
  await settle()
  b.streams.handleRequests('stuck', () => new Promise(() => {}))
  const asking = a.streams.request('b', { t: 'stuck' }, 200)
  await settle()
  // b's handler never answers, but b says something else on the link before a's request runs out.
  await b.messages.send('a', 'still here')
  await t.rejects(asking, { code: 'STREAM_TIMEOUT' })
  t.equal(a.streams.silentLinks, 0)
  t.not(a.streams.mux('b'), undefined, 'the link to b is kept')
  t.same(
    a.received.map((message) => message.text),
    ['still here'],
  )
})

t.test('a device with no link is PRESENCE_OFFLINE at once', async (t) => {
  const a = device()
  await t.rejects(a.messages.send('b', 'nobody'), { code: 'PRESENCE_OFFLINE' })
})
