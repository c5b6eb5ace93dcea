/**
 * Both devices behind symmetric NATs, nothing mappable (rtrA's miniupnpd stopped): no direct or
 * hole-punched path exists (test/lab/holepunch.test.ts), so they pair, link and exchange a message and a
 * file through a relay in pub (spec/relay.md). The README's commands, no extra flags: the relay is
 * `pairctl relay --port N --bootstrap HOST:PORT` and the devices find it in the DHT (no `--relay`). Needs
 * root; run with `npm run test:lab`.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { startCli, tempHome } from '../cli/helpers/cli.js'
import { type Host, runOn, startDaemon, status, statusUntil } from './helpers/daemon.js'
import { pairAcross, peerConnected, startBootstrap } from './helpers/pairing.js'
import { withLab } from './helpers/suite.js'

const RELAY_PORT = 4433
/** From the daemons' start to both links up: a DHT lookup of presence, then the relay circuit. */
const LINKED_WITHIN_MS = 120_000

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

// Many commands, each a process started through tsx inside a namespace: more than tap's default 180 s.
t.setTimeout(600_000)

await withLab('rl', async (lab) => {
  lab.script(['upnp', 'off'])
  lab.script(['nat-a', 'random'])
  lab.script(['nat-b', 'random'])

  t.test('both behind symmetric NATs: pairing, a message and a file go through the relay', async (t) => {
    const home = await tempHome(t)
    const network = await startBootstrap(t, lab, home, 4000)
    const relay = startCli(
      t,
      home,
      ['relay', '--port', String(RELAY_PORT), ...network, '--json'],
      {},
      lab.ns('pub'),
    )
    const listening = await relay.waitFor((record) => record.type === 'listening', 90_000)
    t.match(
      listening,
      { port: RELAY_PORT, announced: [/^203\.0\.113\.[14]:4433$/] },
      'the relay announced its public address in the DHT',
    )

    const { alice, bob } = await pairAcross(t, lab, home, network)
    t.equal(bob.code, 0, bob.stdout + bob.stderr)
    t.equal(alice.code, 0, alice.stdout + alice.stderr)
    t.match(
      peerConnected(bob),
      { path: 'relay', relayed: true, address: /^203\.0\.113\.[14]:4433$/ },
      'bob reached alice through the relay',
    )
    t.match(peerConnected(alice), { address: /^relay:/ }, "alice's side came in over a relay circuit")
    t.match(bob.records.at(-1), { type: 'paired', device: { name: 'alice' } })
    t.match(alice.records.at(-1), { type: 'paired', device: { name: 'bob' } })

    const hostA: Host = { lab, home, node: 'hostA', instance: 'alice' }
    const hostB: Host = { lab, home, node: 'hostB', instance: 'bob' }
    await Promise.all([startDaemon(t, hostA, network), startDaemon(t, hostB, network)])
    const relayedOnline = (s: Record<string, unknown>) =>
      (s.paired as { online: boolean | null; relayed?: boolean }[]).some(
        (peer) => peer.online === true && peer.relayed === true,
      )
    const [aliceStatus, bobStatus] = await Promise.all([
      statusUntil(t, hostA, relayedOnline, LINKED_WITHIN_MS),
      statusUntil(t, hostB, relayedOnline, LINKED_WITHIN_MS),
    ])
    t.match(
      aliceStatus.paired,
      [{ name: 'bob', online: true, path: 'relay', relayed: true }],
      'alice: bob online, relayed',
    )
    t.match(
      bobStatus.paired,
      [{ name: 'alice', online: true, path: 'relay', relayed: true }],
      'bob: alice online, relayed',
    )
    t.match(
      (aliceStatus.external as { source: string }[]).find((address) => address.source === 'relay'),
      { host: /^203\.0\.113\.[14]$/, port: RELAY_PORT },
      "alice's status names the relay she is reachable through",
    )

    const listen = startCli(t, home, ['--instance', 'bob', 'listen', '--json'], {}, lab.ns('hostB'))
    await listen.waitFor((record) => record.type === 'listening', 60_000)
    const text = 'through the relay, from behind two symmetric NATs'
    const sent = await runOn(t, hostA, ['send', 'bob', text, '--json'])
    t.equal(sent.code, 0, sent.stderr)
    t.match(sent.records, [{ type: 'sent', text }], 'alice: sent and acknowledged')
    t.match(
      await listen.waitFor((record) => record.type === 'message', 30_000),
      { type: 'message', name: 'alice', text },
      'bob received it',
    )

    // Several MiB: many transfer chunks and far more than one circuit message, in random bytes.
    const content = randomBytes(3 * 1024 * 1024 + 12_345)
    const file = join(home, 'relayed.bin')
    await writeFile(file, content)
    const sentFile = await runOn(t, hostA, ['send', 'bob', '--file', file, '--json'], 180_000)
    t.equal(sentFile.code, 0, sentFile.stdout + sentFile.stderr)
    t.match(sentFile.records.at(-1), { type: 'done', transfer: { direction: 'send', files: 1 } })
    const received = await runOn(t, hostB, ['transfers', '--json'])
    t.match(
      received.records,
      [{ type: 'transfers', transfers: [{ direction: 'receive', state: 'done', bytes: content.length }] }],
      'bob: the transfer is done',
    )
    const downloads = (await status(t, hostB)).downloads as string
    t.equal(
      sha256(await readFile(join(downloads, 'relayed.bin'))),
      sha256(content),
      'the file arrived identical',
    )
    t.match(
      (await status(t, hostB)).paired,
      [{ online: true, relayed: true }],
      'the link is still the relayed one',
    )
  })
})
