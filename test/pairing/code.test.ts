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

t.test('every allowed length has 2 rendezvous words and at least 33 secret bits', async (t) => {
  for (let words = 5; words <= 24; words++) {
    const code = generateCode(words)
    t.equal(code.rendezvous.length, 2, `${words} words: 2 rendezvous words (2^22 keys)`)
    t.ok(secretBits(code) >= 33, `${words} words: ${secretBits(code)} secret bits`)
    t.equal(parseCode(code.text).rendezvous.length, 2)
  }
  for (const bad of [3, 4, 25, 5.5]) t.throws(() => generateCode(bad), { code: 'PAIRING_BAD_CODE' })
  t.throws(() => parseCode('abandon ability able about'), { code: 'PAIRING_BAD_CODE', message: /5 to 24/ })
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
  // Under 4 letters a token must be a whole word: "add" is one, "ad" (a prefix of it) is not.
  t.equal(parseCode('abandon ability able about add').secret.at(-1), 'add')
  t.throws(() => parseCode('abandon ability able about ad'), { code: 'PAIRING_UNKNOWN_WORD' })
  t.throws(() => parseCode('abandon able about'), { code: 'PAIRING_BAD_CODE' })
  t.equal(suggestWord('zzzzzzzzzz'), undefined)
})

t.test('every word parses from its 4-letter prefix and from upper case', async (t) => {
  for (let i = 0; i < wordlist.length; i += 5) {
    const words = [i, i + 1, i + 2, i + 3, i + 4].map((j) => wordlist[j % wordlist.length]!)
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
    fc.property(fc.integer({ min: 5, max: 12 }), fc.boolean(), (words, upper) => {
      const code = generateCode(words)
      const typed = code.text.replaceAll('-', ' ')
      return parseCode(upper ? typed.toUpperCase() : typed).text === code.text
    }),
  )
  t.equal(result.failed, false, String(result.counterexample))
})

t.test(
  'the word list is BIP39 English: SHA-256 of the list file (one word per line) as the spec states',
  async (t) => {
    t.equal(wordlist.length, 2048)
    const file = `${wordlist.join('\n')}\n`
    t.equal(toHex(sha256(utf8(file))), '2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda')
  },
)
