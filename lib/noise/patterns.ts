import { NoiseError } from './errors.js'

/** A token of a Noise message pattern (revision 34 §7.1, §9.1). */
export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss' | 'psk'

/** One message of a handshake: who sends it (`->` is the initiator) and its tokens in order. */
export interface MessagePattern {
  readonly fromInitiator: boolean
  readonly tokens: readonly Token[]
}

/** A handshake pattern as data (Noise §7): pre-message tokens of each side and the message sequence. */
export interface HandshakePattern {
  readonly name: string
  readonly premessages: { readonly initiator: readonly Token[]; readonly responder: readonly Token[] }
  readonly messages: readonly MessagePattern[]
  /** True when a psk modifier applies (Noise §9.2: every `e` then also calls MixKey). */
  readonly psk: boolean
}

/**
 * The one-way (§7.4), fundamental interactive (§7.5) and deferred (§7.6) patterns of revision 34 in the
 * spec's own notation: pre-messages before `...`, messages after, separated by `;`.
 */
const NOTATION: Record<string, string> = {
  N: '<- s ... -> e, es',
  K: '-> s; <- s ... -> e, es, ss',
  X: '<- s ... -> e, es, s, ss',
  NN: '-> e; <- e, ee',
  NK: '<- s ... -> e, es; <- e, ee',
  NX: '-> e; <- e, ee, s, es',
  KN: '-> s ... -> e; <- e, ee, se',
  KK: '-> s; <- s ... -> e, es, ss; <- e, ee, se',
  KX: '-> s ... -> e; <- e, ee, se, s, es',
  XN: '-> e; <- e, ee; -> s, se',
  XK: '<- s ... -> e, es; <- e, ee; -> s, se',
  XX: '-> e; <- e, ee, s, es; -> s, se',
  IN: '-> e, s; <- e, ee, se',
  IK: '<- s ... -> e, es, s, ss; <- e, ee, se',
  IX: '-> e, s; <- e, ee, se, s, es',
  NK1: '<- s ... -> e; <- e, ee, es',
  NX1: '-> e; <- e, ee, s; -> es',
  X1N: '-> e; <- e, ee; -> s; <- se',
  X1K: '<- s ... -> e, es; <- e, ee; -> s; <- se',
  XK1: '<- s ... -> e; <- e, ee, es; -> s, se',
  X1K1: '<- s ... -> e; <- e, ee, es; -> s; <- se',
  X1X: '-> e; <- e, ee, s, es; -> s; <- se',
  XX1: '-> e; <- e, ee, s; -> es, s, se',
  X1X1: '-> e; <- e, ee, s; -> es, s; <- se',
  K1N: '-> s ... -> e; <- e, ee; -> se',
  K1K: '-> s; <- s ... -> e, es; <- e, ee; -> se',
  KK1: '-> s; <- s ... -> e; <- e, ee, se, es',
  K1K1: '-> s; <- s ... -> e; <- e, ee, es; -> se',
  K1X: '-> s ... -> e; <- e, ee, s, es; -> se',
  KX1: '-> s ... -> e; <- e, ee, se, s; -> es',
  K1X1: '-> s ... -> e; <- e, ee, s; -> se, es',
  I1N: '-> e, s; <- e, ee; -> se',
  I1K: '<- s ... -> e, es, s; <- e, ee; -> se',
  IK1: '<- s ... -> e, s; <- e, ee, se, es',
  I1K1: '<- s ... -> e, s; <- e, ee, es; -> se',
  I1X: '-> e, s; <- e, ee, s, es; -> se',
  IX1: '-> e, s; <- e, ee, se, s; -> es',
  I1X1: '-> e, s; <- e, ee, s; -> se, es',
}

/**
 * The pattern named `name`, e.g. `XX`, `IK` or `XXpsk3` / `NNpsk0+psk2` (psk modifiers, Noise §9.3:
 * `psk0` opens the first message, `pskN` closes the N-th). Throws `NOISE_MISUSE` for unknown names.
 */
export function handshakePattern(name: string): HandshakePattern {
  let pattern = parsed.get(name)
  if (pattern === undefined) {
    pattern = parsePattern(name)
    parsed.set(name, pattern)
  }
  return pattern
}

/** Patterns already parsed: every handshake of a channel asks for its pattern by name. */
const parsed = new Map<string, HandshakePattern>()

function parsePattern(name: string): HandshakePattern {
  const [base = '', ...modifiers] = name.split(/(?=psk)|\+/).filter((part) => part !== '')
  const notation = NOTATION[base]
  if (notation === undefined) throw NoiseError.misuse(`unknown Noise handshake pattern ${name}`)
  const [pre, main] = notation.includes('...') ? notation.split('...') : ['', notation]
  const messages = parseMessages(main!)
  for (const modifier of modifiers) applyPsk(messages, modifier, name)
  return { name, premessages: parsePremessages(pre!), messages, psk: modifiers.length > 0 }
}

function parseMessages(text: string): { fromInitiator: boolean; tokens: Token[] }[] {
  return text.split(';').map((line) => {
    const [arrow, ...rest] = line.trim().split(' ')
    return { fromInitiator: arrow === '->', tokens: rest.join('').split(',') as Token[] }
  })
}

function parsePremessages(text: string): HandshakePattern['premessages'] {
  const lines = text.trim() === '' ? [] : parseMessages(text)
  const of = (fromInitiator: boolean) =>
    lines.find((line) => line.fromInitiator === fromInitiator)?.tokens ?? []
  return { initiator: of(true), responder: of(false) }
}

function applyPsk(messages: { tokens: Token[] }[], modifier: string, name: string): void {
  const position = /^psk(\d)$/.exec(modifier)?.[1]
  const index = position === undefined ? -1 : Number(position)
  if (index < 0 || index > messages.length) throw NoiseError.misuse(`bad psk modifier in ${name}`)
  if (index === 0) messages[0]!.tokens.unshift('psk')
  else messages[index - 1]!.tokens.push('psk')
}
