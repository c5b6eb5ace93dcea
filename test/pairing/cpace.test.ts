import { readFileSync } from 'node:fs'
import { ristretto255 } from '@noble/curves/ed25519.js'
import t from 'tap'
import { fromHex, randomBytes, toHex, utf8 } from '../../lib/crypto/index.js'
import {
  calculateGenerator,
  cpaceShare,
  deriveIsk,
  generatorString,
  isNeutral,
  lvCat,
  prependLen,
  sampleScalar,
  scalarFromBytes,
  scalarMultVfy,
  transcriptIr,
} from '../../lib/pairing/cpace.js'

const vectors = JSON.parse(
  readFileSync(new URL('../../spec/vectors/cpace/cpace-testvectors.json', import.meta.url), 'utf8'),
)
const v = vectors.G_Coffee25519 as Record<string, string>
const points = vectors.G_Coffee25519_points as {
  Valid: Record<string, string>
  'Invalid Y1': string
  'Invalid Y2': string
}
const hex = (name: string) => fromHex(v[name]!)

t.test('prepend_len / lv_cat / transcript_ir match the draft (Appendix A)', async (t) => {
  t.equal(toHex(prependLen(new Uint8Array(0))), '00')
  t.equal(toHex(prependLen(utf8('1234'))), '0431323334')
  t.equal(toHex(prependLen(new Uint8Array(128)).subarray(0, 2)), '8001')
  t.equal(toHex(prependLen(new Uint8Array(300)).subarray(0, 2)), 'ac02')
  t.equal(toHex(lvCat(utf8('1234'), utf8('5'), new Uint8Array(0), utf8('678'))), '043132333401350003363738')
  t.equal(
    toHex(transcriptIr(utf8('123'), utf8('PartyA'), utf8('234'), utf8('PartyB'))),
    '03313233065061727479410332333406506172747942',
  )
})

t.test('generator string pads DSI and PRS to one SHA-512 block', async (t) => {
  const s = generatorString(hex('PRS'), hex('CI'), hex('sid'))
  const head = 1 + 17 + 1 + 8 + 1
  t.equal(s.length, head + 100 + 1 + hex('CI').length + 1 + hex('sid').length)
  t.equal(s[head - 1], 100, 'zero padding of 100 bytes, length-prefixed')
})

t.test('ristretto255 / SHA-512 vectors (G_Coffee25519)', async (t) => {
  const g = calculateGenerator(hex('PRS'), hex('CI'), hex('sid'))
  t.equal(toHex(g), v.g!.toLowerCase(), 'generator g')
  const ya = scalarFromBytes(hex('ya'))
  const yb = scalarFromBytes(hex('yb'))
  t.equal(toHex(cpaceShare(g, ya)), v.Ya!.toLowerCase(), 'Ya')
  t.equal(toHex(cpaceShare(g, yb)), v.Yb!.toLowerCase(), 'Yb')
  t.equal(toHex(scalarMultVfy(ya, hex('Yb'))), v.K!.toLowerCase(), 'K on A')
  t.equal(toHex(scalarMultVfy(yb, hex('Ya'))), v.K!.toLowerCase(), 'K on B')
  const common = { sid: hex('sid'), ya: hex('Ya'), ada: hex('ADa'), yb: hex('Yb'), adb: hex('ADb') }
  const iskA = deriveIsk({ ...common, scalar: ya, peerShare: hex('Yb') })
  const iskB = deriveIsk({ ...common, scalar: yb, peerShare: hex('Ya') })
  t.equal(toHex(iskA), v.ISK_IR!.toLowerCase(), 'ISK_IR on A')
  t.equal(toHex(iskB), v.ISK_IR!.toLowerCase(), 'ISK_IR on B')
})

t.test('scalar_mult_vfy: valid point, and the invalid encodings give the neutral element', async (t) => {
  const s = scalarFromBytes(fromHex(points.Valid.s!))
  t.equal(
    toHex(scalarMultVfy(s, fromHex(points.Valid.X!))),
    points.Valid['G.scalar_mult_vfy(s,X)']!.toLowerCase(),
  )
  for (const bad of [points['Invalid Y1'], points['Invalid Y2']]) {
    t.ok(isNeutral(scalarMultVfy(s, fromHex(bad))), `neutral for ${bad.slice(0, 8)}…`)
    const exchange = { sid: hex('sid'), ya: hex('Ya'), ada: hex('ADa'), yb: fromHex(bad), adb: hex('ADb') }
    t.throws(() => deriveIsk({ ...exchange, scalar: s, peerShare: fromHex(bad) }), {
      code: 'PAIRING_PROTOCOL',
    })
  }
})

t.test('a wrong password gives a different ISK; a right one agrees for random scalars', async (t) => {
  const sid = utf8('session')
  const ci = utf8('ci')
  const ya = sampleScalar(randomBytes)
  const yb = sampleScalar(randomBytes)
  const share = (pw: string, y: bigint) => cpaceShare(calculateGenerator(utf8(pw), ci, sid), y)
  const ada = utf8('A')
  const adb = utf8('B')
  const run = (pwA: string, pwB: string) => {
    const Ya = share(pwA, ya)
    const Yb = share(pwB, yb)
    const base = { sid, ya: Ya, ada, yb: Yb, adb }
    return [
      deriveIsk({ ...base, scalar: ya, peerShare: Yb }),
      deriveIsk({ ...base, scalar: yb, peerShare: Ya }),
    ]
  }
  const [a1, b1] = run('able about absent', 'able about absent')
  t.equal(toHex(a1!), toHex(b1!))
  const [a2, b2] = run('able about absent', 'able about abuse')
  t.not(toHex(a2!), toHex(b2!))
  t.ok(ya > 0n && ya < ristretto255.Point.Fn.ORDER)
})
