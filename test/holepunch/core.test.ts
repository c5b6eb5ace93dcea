import t from 'tap'
import { MAPPING_STUN_SCHEDULE } from '../../lib/holepunch/constants.js'
import {
  ANSWER_TIMEOUT_MS,
  CONNECT_WINDOW_BASE_MS,
  CONNECT_WINDOW_MAX_MS,
  connectWindow,
  HolepunchError,
  type LocalMapping,
  PunchRequester,
  PunchResponder,
  type RequesterAction,
  type ResponderAction,
} from '../../lib/holepunch/index.js'
import { ClientTransaction, createBindingRequest } from '../../lib/stun/index.js'
import { runToEnd } from '../stun/helpers/schedule.js'

const cone = (port: number): LocalMapping => ({
  localPort: port,
  mapped: { host: '203.0.113.3', port },
  nat: 'preserving',
})
const symmetric: LocalMapping = {
  localPort: 5000,
  mapped: { host: '203.0.113.3', port: 61234 },
  nat: 'changing',
}

function drain<A>(core: { pollAction(): A | undefined }): A[] {
  const actions: A[] = []
  for (let a = core.pollAction(); a !== undefined; a = core.pollAction()) actions.push(a)
  return actions
}

t.test(
  'requester: prepare, request, answer, connect within a window sized by the measured RTT',
  async (t) => {
    const core = new PunchRequester()
    t.match(drain(core), [{ type: 'prepare', attempt: 1 }])
    core.prepared(cone(40000), 1000)
    const [publish] = drain(core) as [Extract<RequesterAction, { type: 'publish' }>]
    t.match(publish, { type: 'publish', counter: 0, message: { t: 'req', addr: { port: 40000 }, at: 1000 } })
    t.equal(core.pollTimeout(), 1000 + ANSWER_TIMEOUT_MS)
    core.receive(
      { t: 'ans', n: new Uint8Array(16), addr: { host: '203.0.113.2', port: 1 }, nat: 'preserving' },
      1100,
    )
    t.same(drain(core), [], 'an answer to another nonce is ignored')
    core.receive(
      { t: 'ans', n: core.nonce, addr: { host: '203.0.113.2', port: 41000 }, nat: 'preserving' },
      1400,
    )
    t.same(drain(core), [
      {
        type: 'connect',
        localPort: 40000,
        remote: { host: '203.0.113.2', port: 41000 },
        timeoutMs: CONNECT_WINDOW_BASE_MS + 800,
        rttMs: 400,
      },
    ])
    core.connected()
    t.ok(core.isOver)
  },
)

t.test('connect window grows with the RTT and is capped', async (t) => {
  t.equal(connectWindow(0), CONNECT_WINDOW_BASE_MS)
  t.equal(connectWindow(60_000), CONNECT_WINDOW_MAX_MS)
})

t.test(
  'requester: a failed connect retries on a fresh port and nonce, then fails and holds an end',
  async (t) => {
    const core = new PunchRequester({ maxAttempts: 2 })
    drain(core)
    core.prepared(cone(40000), 0)
    drain(core)
    const first = core.nonce
    core.receive({ t: 'ans', n: first, addr: { host: '203.0.113.2', port: 41000 }, nat: 'preserving' }, 10)
    drain(core)
    core.connectFailed(new Error('timeout'))
    t.match(drain(core), [{ type: 'prepare', attempt: 2 }])
    t.not(Buffer.from(core.nonce).toString('hex'), Buffer.from(first).toString('hex'))
    core.prepared(cone(40002), 100)
    drain(core)
    core.handleTimeout(100 + ANSWER_TIMEOUT_MS - 1)
    t.same(drain(core), [], 'not yet timed out')
    core.handleTimeout(100 + ANSWER_TIMEOUT_MS)
    const actions = drain(core)
    t.match(actions, [
      { type: 'publish', counter: 1, message: { t: 'end', why: 'no-answer' } },
      { type: 'failed', error: { code: 'HOLEPUNCH_NO_ANSWER' } },
    ])
    t.ok(core.isOver)
  },
)

t.test(
  'requester: a connection lost before it was secured is a failed attempt, then the last one fails',
  async (t) => {
    const core = new PunchRequester({ maxAttempts: 2 })
    const connect = (port: number, at: number) => {
      drain(core)
      core.prepared(cone(port), at)
      drain(core)
      core.receive(
        { t: 'ans', n: core.nonce, addr: { host: '203.0.113.2', port: 41000 }, nat: 'preserving' },
        at + 10,
      )
      t.match(drain(core), [{ type: 'connect', localPort: port }])
      core.connected()
    }
    core.securingFailed(new Error('too early: nothing connected'))
    t.same(drain(core), [{ type: 'prepare', attempt: 1 }], 'ignored before a connection')
    connect(40000, 0)
    const first = Buffer.from(core.nonce).toString('hex')
    core.securingFailed(new Error('handshake timed out'))
    t.match(drain(core), [{ type: 'prepare', attempt: 2 }], 'the next attempt starts')
    t.not(Buffer.from(core.nonce).toString('hex'), first, 'with a fresh nonce')
    connect(40002, 100)
    core.securingFailed(new Error('connection ended'))
    t.match(drain(core), [
      { type: 'publish', counter: 1, message: { t: 'end', why: 'no-path' } },
      { type: 'failed', error: { code: 'HOLEPUNCH_NO_PATH' } },
    ])
    t.ok(core.isOver)
  },
)

t.test('requester behind a symmetric NAT gives up before asking and says why', async (t) => {
  const core = new PunchRequester()
  drain(core)
  core.prepared(symmetric, 0)
  t.match(drain(core), [
    { type: 'publish', message: { t: 'end', why: 'symmetric' } },
    {
      type: 'failed',
      error: { code: 'HOLEPUNCH_NO_PATH', message: /this device is behind a symmetric NAT/ },
    },
  ])
})

t.test('requester: a responder behind a symmetric NAT answers null and the punch ends at once', async (t) => {
  const core = new PunchRequester()
  drain(core)
  core.prepared(cone(40000), 0)
  drain(core)
  core.receive({ t: 'ans', n: core.nonce, addr: null, nat: 'changing' }, 5)
  t.match(drain(core), [
    { type: 'publish', message: { t: 'end', why: 'responder-symmetric' } },
    { type: 'failed', error: { message: /the other device is behind a symmetric NAT/ } },
  ])
})

t.test('requester: a STUN failure counts as an attempt', async (t) => {
  const core = new PunchRequester({ maxAttempts: 1 })
  drain(core)
  core.prepareFailed(HolepunchError.noPath('no STUN answer'))
  t.match(drain(core), [{ type: 'publish', message: { t: 'end' } }, { type: 'failed' }])
})

const request = (n: number, at: number) => ({
  t: 'req' as const,
  n: new Uint8Array(16).fill(n),
  addr: { host: '203.0.113.3', port: 40000 },
  nat: 'preserving' as const,
  at,
})

t.test('responder: answers a fresh request once, then connects to the requester', async (t) => {
  const core = new PunchResponder()
  core.receive(request(1, 1000), 1500)
  const [prepare] = drain(core) as [Extract<ResponderAction, { type: 'prepare' }>]
  t.match(prepare, { type: 'prepare', remote: { port: 40000 } })
  core.receive(request(1, 1000), 2000)
  t.same(drain(core), [], 'the same request on the next poll is not answered twice')
  core.prepared(prepare.nonce, cone(41000))
  const actions = drain(core)
  t.match(actions, [
    { type: 'publish', counter: 0, message: { t: 'ans', addr: { host: '203.0.113.3', port: 41000 } } },
    { type: 'connect', localPort: 41000, remote: { host: '203.0.113.3', port: 40000 } },
  ])
  t.equal(actions[0]!.type, 'publish', 'the answer goes out before the connect, so our SYN leaves first')
})

t.test(
  'responder: stale requests are ignored; a symmetric responder answers null and does not connect',
  async (t) => {
    const core = new PunchResponder()
    core.receive(request(2, 0), 120_000)
    t.same(drain(core), [], 'a request two minutes old is not answered')
    core.receive(request(3, 0), 10)
    const [prepare] = drain(core) as [Extract<ResponderAction, { type: 'prepare' }>]
    core.prepared(prepare.nonce, symmetric)
    t.match(drain(core), [{ type: 'publish', message: { t: 'ans', addr: null, nat: 'changing' } }])
  },
)

t.test('responder: an end, even for a nonce it never saw, is reported once with its reason', async (t) => {
  const core = new PunchResponder()
  const end = { t: 'end' as const, n: new Uint8Array(16).fill(9), why: 'symmetric' as const }
  core.receive(end, 0)
  core.receive(end, 500)
  t.match(drain(core), [
    {
      type: 'ended',
      error: { code: 'HOLEPUNCH_NO_PATH', message: /other device is behind a symmetric NAT/ },
    },
  ])
})

t.test(
  'learning a mapping: 5 STUN transmissions within 4 s, given up within the answer timeout',
  async (t) => {
    const request = createBindingRequest()
    const tx = new ClientTransaction(
      {
        request: request.bytes,
        transactionId: request.transactionId,
        destination: { host: '203.0.113.1', port: 4000 },
        ...MAPPING_STUN_SCHEDULE,
      },
      0,
    )
    const sends = runToEnd(tx)
    const failedAt = sends.pop()!
    // At 20 % loss each way a transaction fails 36 % of the time: five in 4 s leave 0.6 % unanswered.
    t.ok(sends.filter((at) => at < 4_000).length >= 5, `sent at ${sends.join(', ')} ms`)
    t.ok(
      failedAt < ANSWER_TIMEOUT_MS,
      `failed at ${failedAt} ms, before the requester's ${ANSWER_TIMEOUT_MS} ms`,
    )
    t.equal(tx.nextEvent()?.type, 'failed')
  },
)
