/**
 * Abuse bounds of the DHT (`spec/dht.md` §8, issue #17): amplification of every RPC, floods from many
 * addresses of one /24, Sybil ids from one /24 or /64, record spam. `bench/abuse` prints the same
 * measurements at full size; here they run small and assert the bound.
 */
import t from 'tap'
import {
  AMPLIFICATION_FACTOR,
  DEFAULT_LIMITS,
  MAX_DATAGRAM_BYTES,
  NAMESPACES,
} from '../../lib/dht/constants.js'
import {
  measureAmplification,
  measureFlood,
  measureGroupRotation,
  measureLookupUnderFlood,
  measureProbeReflection,
  measureRecordSpam,
  measureSybil,
  RPCS,
} from './helpers/abuse.js'

for (const family of [4, 6] as const) {
  t.test(
    `IPv${family}: every RPC from a new source, any size, gets at most 3x its bytes and 1200 B`,
    async (t) => {
      const figures = measureAmplification(family, 97)
      t.same(
        figures.map((figure) => figure.rpc),
        [...RPCS],
      )
      for (const figure of figures) {
        t.ok(figure.answered > 0, `${figure.rpc}: answered`)
        t.ok(figure.worstRatio <= AMPLIFICATION_FACTOR, `${figure.rpc}: worst ratio ${figure.worstRatio}`)
        t.ok(figure.largestReply <= MAX_DATAGRAM_BYTES, `${figure.rpc}: largest ${figure.largestReply} B`)
      }
      const find = figures.find((figure) => figure.rpc === 'FIND_NODE')!
      t.ok(
        find.worstRatio > 2.5,
        'the sweep reaches the budget: trimming, not small answers, holds the bound',
      )
    },
  )
}

t.test('a spoofed server source gets its reply and one probe (with retransmissions), no more', async (t) => {
  const figure = measureProbeReflection()
  t.ok(figure.reply <= AMPLIFICATION_FACTOR * figure.request, 'the reply itself is within 3x')
  t.equal(figure.probes, (DEFAULT_LIMITS.retransmits + 1) * 64, 'one padded PING, sent 1 + retransmits times')
})

t.test('1000 addresses of one /24 at 20x the limit get 100 replies/s after the burst', async (t) => {
  const figure = measureFlood(1000, 2000, 3)
  const { requestsPerSecond: rate, requestBurst: burst } = DEFAULT_LIMITS
  t.ok(figure.granted <= burst + rate * figure.seconds, `granted ${figure.granted} of ${figure.offered}`)
  t.ok(figure.granted >= rate * figure.seconds, 'the group is limited, not shut out')
  t.equal(figure.rateLimited, figure.offered - figure.granted, 'every other request was counted and dropped')
})

t.test(
  "rotating through more groups than the limiter tracks buys one more group's share, no more",
  async (t) => {
    const { requestsPerSecond: rate, requestBurst: burst } = DEFAULT_LIMITS
    const seconds = 2
    const perGroup = burst + rate * seconds
    const entries = 16
    const tracked = measureGroupRotation(entries, 400, seconds, entries)
    t.ok(
      tracked.granted <= entries * perGroup && tracked.granted >= entries * (perGroup - 2),
      `as many groups as tracked: each gets its burst and rate (${tracked.granted})`,
    )
    const rotating = measureGroupRotation(4 * entries, 400, seconds, entries)
    t.ok(rotating.offered > 4 * tracked.granted, 'the rotation offers far more than the limit')
    t.ok(
      rotating.granted <= (entries + 1) * perGroup,
      `${rotating.granted} granted to ${4 * entries} groups: the tracked ones and one shared overflow bucket`,
    )
  },
)

t.test('a GET from another /24 finds its record while the storing nodes are flooded', async (t) => {
  const figure = measureLookupUnderFlood(40, 8, 2000, 500)
  t.ok(figure.found, 'the honest lookup found the record')
  t.ok(figure.floodGranted > 0, 'the flood reached the nodes')
  t.ok(
    figure.grantedPerSecondPerNode <= DEFAULT_LIMITS.requestsPerSecond,
    `each flooded node granted ${figure.grantedPerSecondPerNode}/s beyond the burst`,
  )
})

for (const family of [4, 6] as const) {
  t.test(
    `IPv${family}: 2000 ids from one ${family === 4 ? '/24' : '/64'} take 2 slots per bucket`,
    async (t) => {
      const figure = measureSybil(family, 2000)
      const cap = DEFAULT_LIMITS.nodesPerGroup
      t.ok(figure.inTable > 0, 'the attacker is not refused outright')
      t.ok(figure.perLevel <= cap, `at most ${cap} per bucket, got ${figure.perLevel}`)
      t.ok(figure.inTable <= cap * figure.levels, `${figure.inTable} of ${figure.offered} in the table`)
      t.ok(figure.tableSize - figure.inTable >= 20, 'honest nodes hold the rest of the table')
      t.ok(figure.askedByLookup <= cap, `a lookup at an attacker id asks ${figure.askedByLookup} of them`)
    },
  )
}

t.test('record spam from one /24: 8 per key, 64 per source, squatters refused, owner stored', async (t) => {
  const figure = measureRecordSpam(40, 100)
  t.equal(figure.atOneKey, DEFAULT_LIMITS.recordsPerKey, 'one key holds 8 of the 40 publishers')
  t.equal(figure.bySpammer, DEFAULT_LIMITS.recordsPerSource, 'one /24 stores 64 records in all')
  t.equal(figure.squattersAtOwnerKey, 0, 'nobody else can write at an owned presence key')
  t.ok(figure.ownerStored, "the owner's presence record is stored after the spam")
})

t.test('record spam from many /24s stops at the store byte cap and cannot keep a new /24 out', async (t) => {
  const storeBytes = 64 * 1024
  const figure = measureRecordSpam(0, 300, 20, storeBytes)
  t.ok(figure.storeBytes <= storeBytes, `${figure.storeBytes} B charged`)
  t.ok(figure.storeBytes > storeBytes - 1_000, 'the store filled up to the cap')
  t.ok(figure.stored < figure.attempts, 'the rest was refused (STORE_FULL)')
  t.ok(figure.ownerStored, "the owner's record took its share from the largest spamming /24")
})

t.test('keeping a new /24 out of a full store takes one /24 per full-size record it holds', async (t) => {
  const storeBytes = 64 * 1024
  const perRecord = NAMESPACES.pairing!.maxValueBytes + 160
  const groups = Math.floor(storeBytes / perRecord)
  const figure = measureRecordSpam(0, 4 * groups, groups, storeBytes)
  t.notOk(figure.ownerStored, `${groups} /24s holding one record each refuse a newcomer`)
  t.ok(measureRecordSpam(0, 4 * groups, groups - 16, storeBytes).ownerStored, `${groups - 16} /24s do not`)
})
