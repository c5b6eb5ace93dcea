import { wordlist } from '@scure/bip39/wordlists/english.js'
import fc from 'fast-check'
import t from 'tap'
import { sha256, toHex, utf8 } from '../../lib/crypto/index.js'
import { hasCode } from '../../lib/errors.js'
import {
  codePassword,
  generateCode,
  parseCode,
  redrawRendezvous,
  rendezvousKey,
  secretBits,
  suggestWord,
} from '../../lib/pairing/code.js'

/** A deterministic byte source: 0, 1, 2, ... */
function counter(): (n: number) => Uint8Array {
  let next = 0
  return (n) => Uint8Array.from({ length: n }, () => next++ & 255)
}

t.test('default code: 2 rendezvous words + 3 secret words (33 bits)', async (t) => {
  const code = generateCode()
  t.equal(code.rendezvous.length, 2)
  t.equal(code.secret.length, 3)
  t.equal(secretBits(code), 33)
  t.equal(code.text.split('-').length, 5)
  for (const word of [...code.rendezvous, ...code.secret]) t.ok(wordlist.includes(word))
})

t.test('word counts: 4 → 1 rendezvous word, 8 → 2; out of range rejected', async (t) => {
  t.equal(generateCode(4).rendezvous.length, 1)
  t.equal(generateCode(8).secret.length, 6)
  for (const bad of [3, 25, 4.5]) t.throws(() => generateCode(bad), { code: 'PAIRING_BAD_CODE' })
})

t.test('words come from 2 random bytes each, masked to 11 bits', async (t) => {
  const code = generateCode(5, counter())
  // bytes (0,1) → 0x0001 → word 1; (2,3) → 0x0203 & 2047 = 515; ...
  t.same(code.rendezvous, [wordlist[1], wordlist[0x203]])
  t.same(code.secret, [wordlist[0x405], wordlist[0x607], wordlist[0x809 & 2047]])
})

t.test('parse: case-insensitive, dashes or spaces, 4-letter prefixes', async (t) => {
  const code = parseCode('  ABANDON ability-Able   abou ABSE ')
  t.equal(code.text, 'abandon-ability-able-about-absent')
  t.same(parseCode(code.text), code)
})

t.test('parse: unknown words rejected with a suggestion, before any network use', async (t) => {
  const err = t.throws(() => parseCode('abandon abilty able about absent')) as Error
  t.ok(hasCode(err, 'PAIRING_UNKNOWN_WORD'))
  t.match(err.message, /did you mean "ability"/)
  t.throws(() => parseCode('abandon ability able about xqzzyv'), { code: 'PAIRING_UNKNOWN_WORD' })
  t.throws(() => parseCode('abandon ab able about absent'), { code: 'PAIRING_UNKNOWN_WORD' })
  t.throws(() => parseCode('abandon abandonx able about absent'), { code: 'PAIRING_UNKNOWN_WORD' })
  t.throws(() => parseCode('abandon able about'), { code: 'PAIRING_BAD_CODE' })
  t.equal(suggestWord('zzzzzzzzzz'), undefined)
})

t.test('every word parses from its 4-letter prefix and from upper case', async (t) => {
  for (let i = 0; i < wordlist.length; i += 4) {
    const words = [i, i + 1, i + 2, i + 3].map((j) => wordlist[j % wordlist.length]!)
    t.equal(parseCode(words.map((w) => w.slice(0, 4).toUpperCase()).join(' ')).text, words.join('-'))
  }
})

t.test('rendezvous key depends only on the rendezvous words and the word count', async (t) => {
  const a = parseCode('abandon ability able about absent')
  const b = parseCode('abandon ability zoo zoo zoo')
  t.equal(toHex(rendezvousKey(a)), toHex(rendezvousKey(b)))
  const expected = sha256(utf8('pairctl/rendezvous/v1'), Uint8Array.of(5), utf8('abandon ability'))
  t.equal(toHex(rendezvousKey(a)), toHex(expected))
  t.not(toHex(rendezvousKey(parseCode('abandon ability able about absent zoo'))), toHex(expected))
  t.equal(Buffer.from(codePassword(a)).toString(), 'able about absent')
})

t.test('redraw keeps the secret words', async (t) => {
  const code = generateCode(6)
  const again = redrawRendezvous(code)
  t.same(again.secret, code.secret)
  t.equal(again.rendezvous.length, 2)
})

t.test('property: any generated code round-trips through parse in any case and separator', async (t) => {
  const result = fc.check(
    fc.property(fc.integer({ min: 4, max: 12 }), fc.boolean(), (words, upper) => {
      const code = generateCode(words)
      const typed = code.text.replaceAll('-', ' ')
      return parseCode(upper ? typed.toUpperCase() : typed).text === code.text
    }),
  )
  t.equal(result.failed, false, String(result.counterexample))
})
