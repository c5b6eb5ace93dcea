/**
 * Characters a peer could use to rewrite a terminal: C0 controls (ESC, CR, LF, BS, …), DEL and C1
 * controls, the bidirectional overrides and isolates (Trojan Source), and the Unicode line separators.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** Characters JSON.stringify leaves raw that must not reach a terminal through a JSON line either. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

const escapeOf = (char: string) => {
  const code = char.charCodeAt(0)
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`
}

/**
 * `text` (from a peer: a message, a device name or type) made safe to print: every control character,
 * bidi override and line separator becomes a visible escape (`\x1b`, `\x0a`, `\u202e`), so a peer can
 * neither colour, move the cursor nor forge a line of output.
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, escapeOf)
}

/** One JSON line: `JSON.stringify`, with the characters it leaves raw escaped too (`\u2028`, `\u202e`). */
export function jsonLine(record: object): string {
  return JSON.stringify(record).replace(
    UNSAFE_IN_JSON,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}
