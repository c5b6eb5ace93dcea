/**
 * Abuse figures (issue #17): what an attacker gets out of a node. DHT (sans I/O, `test/dht/helpers/abuse.ts`,
 * the measurements `test/dht/abuse.test.ts` asserts): worst reply/request ratio of every RPC over every
 * request size, the probe sent to a spoofed server source, replies/s granted to a /24 flooding at 20x
 * the limit, an honest GET's success while the storing nodes are flooded, Sybil entries admitted,
 * record spam stored. Besides: STUN on the DHT port and the mDNS responder's answers (`foreign.ts`).
 * Handshake floods and slow control clients are asserted by `test/node/abuse.test.ts` and
 * `test/control/abuse.test.ts`, not measured here. No anchors: each figure is a bound, read against the
 * limit in its note.
 */
import { AMPLIFICATION_FACTOR, DEFAULT_LIMITS, MAX_DATAGRAM_BYTES } from '../../lib/dht/constants.js'
import {
  measureAmplification,
  measureFlood,
  measureGroupRotation,
  measureLookupUnderFlood,
  measureProbeReflection,
  measureRecordSpam,
  measureSybil,
} from '../../test/dht/helpers/abuse.js'
import type { Benchmark, Metric } from '../harness.js'
import { measureDiscoveryAnswers, measureStunOnDhtPort } from './foreign.js'

function bound(name: string, unit: string, value: number, note: string): Metric {
  return { name, unit, better: 'lower', pairctl: value, anchors: {}, note }
}

function dhtMetrics(quick: boolean): Metric[] {
  const metrics: Metric[] = []
  for (const family of [4, 6] as const) {
    for (const figure of measureAmplification(family, quick ? 97 : 1)) {
      metrics.push(
        bound(
          `amplification ${figure.rpc}, IPv${family}`,
          'reply/request',
          figure.worstRatio,
          `worst of ${figure.answered} answered / ${figure.requests} requests (every size to 1200 B, ` +
            `with and without id, new source each); largest reply ${figure.largestReply} B ` +
            `(limit ${AMPLIFICATION_FACTOR}x, ${MAX_DATAGRAM_BYTES} B)`,
        ),
      )
    }
  }
  const probe = measureProbeReflection()
  metrics.push(
    bound(
      'bytes to a spoofed server source (reply + probe)',
      'sent/request',
      probe.ratio,
      `${probe.request} B PING claiming the source's id: reply ${probe.reply} B + ping-before-insert probe ` +
        `${probe.probes} B (with retransmits); at most ${DEFAULT_LIMITS.pendingProbes} probes pending per node`,
    ),
  )
  const seconds = quick ? 1 : 10
  const flood = measureFlood(quick ? 100 : 4096, 2000, seconds)
  metrics.push(
    bound(
      'flood from one /24: replies granted',
      'replies/s',
      flood.grantedPerSecond,
      `${flood.sources} host:ports of one /24, 2000 GET/s for ${seconds} s virtual: ${flood.granted} of ` +
        `${flood.offered} answered (burst ${DEFAULT_LIMITS.requestBurst} not counted; limit ` +
        `${DEFAULT_LIMITS.requestsPerSecond}/s)`,
    ),
  )
  const groups = quick ? 65 : DEFAULT_LIMITS.rateLimiterEntries + 1
  const entries = quick ? 64 : DEFAULT_LIMITS.rateLimiterEntries
  const rotation = measureGroupRotation(groups, 400, 2, entries)
  metrics.push(
    bound(
      'rotation through more /24s than the limiter tracks: replies granted',
      'replies/s per group',
      rotation.perGroupPerSecond,
      `${groups} groups (limiter tracks ${entries}), 400 PING/s each for 2 s virtual: ${rotation.granted} of ` +
        `${rotation.offered} answered; the per-group bound is (burst + 2 s × rate) / 2 s = ` +
        `${(DEFAULT_LIMITS.requestBurst + 2 * DEFAULT_LIMITS.requestsPerSecond) / 2}/s`,
    ),
  )
  const under = measureLookupUnderFlood(quick ? 40 : 200, quick ? 4 : 20, 2000, quick ? 200 : 2000)
  metrics.push(
    bound(
      'honest GET while its storing nodes are flooded: failures',
      'failed lookups',
      under.found ? 0 : 1,
      `${quick ? 40 : 200}-node sim, the ${quick ? 4 : 20} closest flooded at 2000 GET/s each from one /24; ` +
        `GET took ${under.virtualMs} ms virtual; flooder granted ${under.grantedPerSecondPerNode.toFixed(1)}/s ` +
        `per node beyond the burst`,
    ),
  )
  for (const family of [4, 6] as const) {
    const sybil = measureSybil(family, quick ? 500 : 20_000)
    metrics.push(
      bound(
        `Sybil ids from one ${family === 4 ? '/24' : '/64'} in the table`,
        'entries',
        sybil.inTable,
        `${sybil.offered} ids offered, each answering its probe; table ${sybil.tableSize} entries; at most ` +
          `${sybil.perLevel} per bucket (cap ${DEFAULT_LIMITS.nodesPerGroup}); a lookup at an attacker id asked ` +
          `${sybil.askedByLookup}`,
      ),
    )
  }
  const spam = measureRecordSpam(quick ? 20 : 200, quick ? 80 : 1000)
  metrics.push(
    bound(
      'record spam from one /24: records stored',
      'records',
      spam.bySpammer,
      `${spam.attempts} PUTs (${quick ? 20 : 200} publishers at one key, the rest across keys): ${spam.atOneKey} at ` +
        `the one key (cap ${DEFAULT_LIMITS.recordsPerKey}), ${spam.storeBytes} B charged; squatters at an owned ` +
        `key ${spam.squattersAtOwnerKey}; owner stored after: ${spam.ownerStored}`,
    ),
  )
  const storeBytes = quick ? 64 * 1024 : DEFAULT_LIMITS.storeBytes
  const full = measureRecordSpam(0, quick ? 300 : 7000, quick ? 20 : 120, storeBytes)
  metrics.push(
    bound(
      'record spam from many /24s: store bytes',
      'bytes',
      full.storeBytes,
      `${full.attempts} PUTs of 700 B from ${quick ? 20 : 120} /24s: ${full.stored} stored (cap ${storeBytes} B); ` +
        `owner's presence record stored after: ${full.ownerStored}`,
    ),
  )
  return metrics
}

function foreignMetrics(): Metric[] {
  return [...measureStunOnDhtPort(), ...measureDiscoveryAnswers()].map((figure) =>
    bound(
      `amplification ${figure.name}`,
      'reply/request',
      figure.ratio,
      `${figure.request} B in, ${figure.reply} B out`,
    ),
  )
}

export default {
  name: 'abuse',
  async run({ quick }) {
    return [...dhtMetrics(quick), ...foreignMetrics()]
  },
} satisfies Benchmark
