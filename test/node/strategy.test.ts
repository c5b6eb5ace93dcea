/**
 * The connection strategy's race (`spec/holepunch.md` §6), driven with attempts that hang, fail or
 * connect on cue: no sockets.
 */
import t from 'tap'
import { type PathAttempt, raceAttempts } from '../../lib/node/strategy.js'
import type { Connected } from '../../lib/pairing/connect.js'
import type { PairingChannel } from '../../lib/pairing/index.js'

/** A connection whose port names the attempt that made it. */
function connection(port: number): Connected {
  const channel = { destroy() {} } as unknown as PairingChannel
  return { channel, address: { host: '203.0.113.2', port, transport: 'tcp' } }
}

/** An attempt that never connects and records whether it was aborted. */
function hanging(
  path: PathAttempt['path'],
  headStartMs: number,
  aborted: string[],
  name: string,
): PathAttempt {
  return {
    path,
    headStartMs,
    run: (signal) =>
      new Promise((_resolve, reject) =>
        signal.addEventListener('abort', () => {
          aborted.push(name)
          reject(new Error('aborted'))
        }),
      ),
  }
}

t.test('a second punch starts after the first one’s head start and wins while the first hangs', async (t) => {
  const aborted: string[] = []
  const started: string[] = []
  const attempts: PathAttempt[] = [
    hanging('direct', 5, aborted, 'direct'),
    {
      ...hanging('holepunch', 20, aborted, 'first punch'),
      run: (signal) => {
        started.push('first punch')
        return hanging('holepunch', 20, aborted, 'first punch').run(signal)
      },
    },
    {
      path: 'holepunch',
      headStartMs: 60_000,
      run: async () => {
        started.push('second punch')
        return connection(2)
      },
    },
  ]
  const won = await raceAttempts(attempts, new AbortController().signal)
  t.same(started, ['first punch', 'second punch'])
  t.equal(won.address.port, 2, 'the second punch’s connection')
  t.equal(won.path, 'holepunch')
  t.same(aborted.sort(), ['direct', 'first punch'], 'the losers are aborted')
})

t.test('a failed punch hands over at once, though the dialed addresses still dial', async (t) => {
  const aborted: string[] = []
  const attempts: PathAttempt[] = [
    hanging('direct', 5, aborted, 'direct'),
    {
      path: 'holepunch',
      headStartMs: 60_000,
      run: async () => {
        throw new Error('this device is behind a symmetric NAT')
      },
    },
    { path: 'relay', headStartMs: 0, run: async () => connection(3) },
  ]
  // Waiting out the punch's 60 s head start would hit the 25 s deadline first: a rejection.
  const won = await raceAttempts(attempts, new AbortController().signal)
  t.equal(won.path, 'relay')
  t.same(aborted, ['direct'])
})

t.test('every path failed: the punch’s reason, not the dial’s', async (t) => {
  const attempts: PathAttempt[] = [
    { path: 'direct', headStartMs: 5, run: async () => Promise.reject(new Error('no answer')) },
    { path: 'holepunch', headStartMs: 5, run: async () => Promise.reject(new Error('symmetric NAT')) },
  ]
  await t.rejects(raceAttempts(attempts, new AbortController().signal), { message: 'symmetric NAT' })
})
