/** The UDP request/response core with a virtual clock (spec/portmap.md §6). */
import t from 'tap'
import { REQUEST_DEADLINE_MS, RETRY_SCHEDULE_MS } from '../../lib/portmap/constants.js'
import { RequestTransaction } from '../../lib/portmap/transaction.js'

const from = { address: '192.168.1.1', port: 5351 }
const accept42 = (bytes: Uint8Array) => (bytes[0] === 42 ? 'yes' : null)

function drain(tx: RequestTransaction<string>, now: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let b = tx.pollTransmit(now); b; b = tx.pollTransmit(now)) out.push(b)
  return out
}

t.test('sends every request at each step of the schedule, then times out at the deadline', async (t) => {
  const requests = [Uint8Array.of(1), Uint8Array.of(2)]
  const tx = new RequestTransaction(requests, accept42, 1000)
  const sendTimes: number[] = []
  for (let now = 1000; tx.nextEvent() === null; now = tx.pollTimeout()!) {
    tx.handleTimeout(now)
    if (drain(tx, now).length === 2) sendTimes.push(now - 1000)
  }
  t.same(sendTimes, [...RETRY_SCHEDULE_MS])
  t.same(tx.nextEvent(), { type: 'timeout' })
  t.equal(tx.pollTimeout(), null)
  t.equal(tx.pollTransmit(1e9), null)
})

t.test('an accepted reply ends it; rejected datagrams are counted and dropped', async (t) => {
  const tx = new RequestTransaction([Uint8Array.of(1)], accept42, 0)
  t.equal(drain(tx, 0).length, 1)
  tx.receive(Uint8Array.of(7), from, 10)
  tx.receive(new Uint8Array(0), from, 11)
  t.equal(tx.dropped, 2)
  t.equal(tx.nextEvent(), null)
  t.equal(tx.pollTimeout(), RETRY_SCHEDULE_MS[1])
  tx.receive(Uint8Array.of(42), from, 12)
  t.same(tx.nextEvent(), { type: 'response', value: 'yes' })
  tx.handleTimeout(REQUEST_DEADLINE_MS + 1)
  t.same(tx.nextEvent(), { type: 'response', value: 'yes' }, 'a late timeout does not override the reply')
})

t.test('the decoder sees the sender', async (t) => {
  const tx = new RequestTransaction(
    [Uint8Array.of(1)],
    (_b, f) => (f.address === '10.0.0.1' ? f.address : null),
    0,
  )
  tx.receive(Uint8Array.of(1), from, 1)
  tx.receive(Uint8Array.of(1), { address: '10.0.0.1', port: 1 }, 2)
  t.same(tx.nextEvent(), { type: 'response', value: '10.0.0.1' })
  t.equal(tx.dropped, 1)
})
