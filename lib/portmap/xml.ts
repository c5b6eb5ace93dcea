/**
 * The few XML reads UPnP needs (device description, SOAP envelopes), without an XML library. The
 * documents are flat and machine-written; we match elements by local name (any namespace prefix), read
 * their text and decode the five predefined entities plus character references (XML 1.0 §4.6).
 * Anything unexpected yields no match, never an exception.
 */

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

/**
 * Inner XML of every element whose local name is `name`, in document order. Linear in the input: tags
 * are matched with classes that stop at the next `<`, and a missing close tag ends the scan, so a
 * hostile body of unclosed tags cannot make the search quadratic.
 */
export function xmlElements(xml: string, name: string): string[] {
  const open = new RegExp(`<(?:[\\w.-]+:)?${name}(?=[\\s/>])[^<>]*>`, 'g')
  const close = new RegExp(`</(?:[\\w.-]+:)?${name}\\s*>`, 'g')
  const found: string[] = []
  for (let tag = open.exec(xml); tag; tag = open.exec(xml)) {
    if (tag[0].endsWith('/>')) {
      found.push('')
      continue
    }
    close.lastIndex = open.lastIndex
    const end = close.exec(xml)
    if (!end) break
    found.push(xml.slice(open.lastIndex, end.index))
    open.lastIndex = close.lastIndex
  }
  return found
}

/** Decoded text of the first element named `name`, or `undefined`. */
export function xmlText(xml: string, name: string): string | undefined {
  const inner = xmlElements(xml, name)[0]
  return inner === undefined ? undefined : decodeEntities(inner).trim()
}

/** Leaf children (`<a>text</a>`) of an element body, as name -> decoded text. */
export function xmlLeaves(xml: string): Map<string, string> {
  const leaves = new Map<string, string>()
  for (const m of xml.matchAll(
    /<(?:[\w.-]+:)?([\w.-]+)(?:\s[^<>]*)?(?:\/>|>([^<]*)<\/(?:[\w.-]+:)?\1\s*>)/g,
  )) {
    leaves.set(m[1]!, decodeEntities(m[2] ?? '').trim())
  }
  return leaves
}

/** Escapes text for an XML element body. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&${Object.keys(ENTITIES).find((k) => ENTITIES[k] === c)};`)
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);/g, (_, ref: string) => {
    if (!ref.startsWith('#')) return ENTITIES[ref]!
    const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10)
    return code <= 0x10ffff ? String.fromCodePoint(code) : ''
  })
}
