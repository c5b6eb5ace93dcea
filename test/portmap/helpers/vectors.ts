/** Reads the port-mapping vectors captured from miniupnpd (spec/vectors/portmap/PROVENANCE.md). */
import { readFileSync } from 'node:fs'

const dir = new URL('../../../spec/vectors/portmap/', import.meta.url)

/** Raw bytes of a vector file. */
export function vectorBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, dir)))
}

/** A text vector. */
export function vectorText(name: string): string {
  return readFileSync(new URL(name, dir), 'utf8')
}

/** A captured SOAP reply: first line `HTTP <status>`, then the body. */
export function soapVector(name: string): { status: number; body: string } {
  const text = vectorText(name)
  const newline = text.indexOf('\n')
  return { status: Number(text.slice(5, newline)), body: text.slice(newline + 1) }
}
