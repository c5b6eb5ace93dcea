/** Property tests of the channel core against arbitrary, garbage and bit-flipped input (issue #17). */
import fc from 'fast-check'
import t from 'tap'
import type { ChannelCore, ChannelEvent } from '../../lib/channel/core.js'
import { garbageOr, looksInternal, runs } from '../fuzz/helpers/arbitraries.js'
import { core, drain, events, openPair, received } from './helpers/cores.js'

/** Codes a channel may fail with on remote input (`spec/noise.md` §8). */
const REMOTE_CODES = [
  'CHANNEL_FRAME_TOO_LARGE',
  'CHANNEL_PROTOCOL_ERROR',
  'NOISE_BAD_KEY',
  'NOISE_BAD_MESSAGE',
  'NOISE_BAD_PAYLOAD',
  'NOISE_BAD_IDENTITY',
  'NOISE_DECRYPT_FAILED',
  'NOISE_TOO_LARGE',
]

/**
 * The core turns anything thrown while decoding into NOISE_BAD_MESSAGE carrying `String(err)`; a
 * TypeError or RangeError there would be a decoder bug hidden behind a typed code, so it counts as stray.
 */
function isTypedFailure(event: ChannelEvent | undefined): boolean {
  return (
    event?.type === 'error' && REMOTE_CODES.includes(event.error.code) && !looksInternal(event.error.message)
  )
}

/** Feeds `bytes` in pieces cut at `cuts` (offsets taken modulo the length). */
function feed(to: ChannelCore, bytes: Uint8Array, cuts: number[]): void {
  const offsets = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b)
  let from = 0
  for (const offset of [...offsets, bytes.length]) {
    to.receive(bytes.subarray(from, offset), 1)
    from = offset
  }
}

t.test('messages of any size and any chunking arrive whole, in order, one event each', async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      (messages, cuts) => {
        const [a, b] = openPair()
        for (const message of messages) a.sendMessage(message, 1)
        feed(b, drain(a), cuts)
        const got = events(b)
        return (
          got.length === messages.length &&
          got.every((event, i) => event.type === 'data' && received([event]).equals(messages[i]!))
        )
      },
    ),
    runs(200),
  )
  t.pass('200 message sequences held the property')
})

t.test(
  'a responder fed garbage or a mutated first flight waits or fails typed, once, then ignores input',
  async (t) => {
    const flight = drain(core('initiator'))
    let failures = 0
    fc.assert(
      fc.property(garbageOr([flight], 400), fc.array(fc.nat(), { maxLength: 3 }), (bytes, cuts) => {
        const responder = core('responder')
        feed(responder, bytes, cuts)
        const got = events(responder)
        if (got.length === 0) return responder.phase === 'handshake'
        failures++
        responder.receive(bytes, 2)
        return (
          got.length === 1 &&
          isTypedFailure(got[0]) &&
          responder.phase === 'failed' &&
          events(responder).length === 0
        )
      }),
      runs(1500),
    )
    t.ok(failures > 0, `garbage failed the handshake (${failures} of 1500), so both outcomes were seen`)
  },
)

t.test(
  'a bit flip anywhere in a transport frame fails the channel typed and never delivers altered data',
  async (t) => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 500 }),
        fc.nat(),
        fc.nat(7),
        (message, at, bit) => {
          const [a, b] = openPair()
          a.sendMessage(message, 1)
          const frame = drain(a)
          frame[at % frame.length]! ^= 1 << bit
          b.receive(frame, 1)
          const got = events(b)
          // A flipped length prefix that grew the frame leaves the core waiting for the rest: no event yet.
          if (got.length === 0) return b.phase === 'open'
          return got.length === 1 && isTypedFailure(got[0]) && b.phase === 'failed'
        },
      ),
      runs(1000),
    )
    t.pass('1000 flipped frames held the property')
  },
)

t.test('garbage after the handshake fails the channel typed, never throws out of receive', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 600 }), (junk) => {
      const [, b] = openPair()
      b.receive(junk, 1)
      b.receiveEnd()
      const got = events(b)
      return (
        got.length === 1 &&
        (isTypedFailure(got[0]) || (got[0]?.type === 'error' && got[0].error.code === 'CHANNEL_TRUNCATED'))
      )
    }),
    runs(500),
  )
  t.pass('500 junk streams held the property')
})
