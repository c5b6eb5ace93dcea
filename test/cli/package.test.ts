import { readFile } from 'node:fs/promises'
import t from 'tap'

/** The subpaths the README names as usable on their own, each with what it must export. */
const SUBPATHS: Record<string, string> = {
  'pairctl/noise': 'HandshakeState',
  'pairctl/dht': 'DhtNode',
  'pairctl/channel': 'MAX_MESSAGE_LENGTH',
  'pairctl/stun': 'StunServer',
  'pairctl/pairing': 'generatePairing',
  'pairctl/presence': 'PresencePublisher',
  'pairctl/portmap': 'PortMapper',
  'pairctl/identity': 'loadOrCreateIdentity',
  'pairctl/control': 'ControlClient',
  'pairctl/node': 'createNode',
}

// Imported by the package's name, as a consumer does (Node resolves a package's own name through its
// "exports"); needs the build (`npm test` runs it first).
t.test('the protocol modules are importable by subpath from the built package', async (t) => {
  for (const [specifier, name] of Object.entries(SUBPATHS)) {
    const module = (await import(specifier)) as Record<string, unknown>
    t.ok(name in module, `${specifier} exports ${name}`)
  }
})

t.test('installing the package runs no prepare script; packing builds it', async (t) => {
  const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'))
  t.notOk('prepare' in manifest.scripts, 'no prepare: consumers are not warned about it')
  t.match(manifest.scripts.prepack, /tsc -p tsconfig.build.json/)
})
