/**
 * Pairing across two NATs in the namespace lab (spec/pairing.md, spec/portmap.md §8): a bootstrap node
 * in pub, alice behind rtrA (which offers UPnP / NAT-PMP / PCP), bob behind rtrB (which offers none).
 * alice maps her port, advertises the mapped public address, and bob, from another private network,
 * finds the advert in the DHT and pairs through the mapping. Then, with both running as daemons, they
 * find each other again through presence records (spec/presence.md) and report each other online.
 * Needs root; run with `npm run test:lab`.
 */
import t from 'tap'
import { jsonLines, runCli, startCli, tempHome } from '../cli/helpers/cli.js'
import { Lab, labUnavailable } from './helpers/lab.js'

const unavailable = labUnavailable()
if (unavailable) {
  t.fail(unavailable)
} else {
  const lab = new Lab('pctl-pr')
  t.teardown(() => lab.down())
  lab.up()

  /** A bootstrap node in pub on `port`; returns the flags that point a device at it. */
  const startBootstrap = async (
    t: Parameters<typeof startCli>[0],
    home: string,
    port: number,
  ): Promise<string[]> => {
    const args = ['bootstrap', '--host', '203.0.113.1', '--port', String(port), '--json']
    const bootstrap = startCli(t, home, args, {}, lab.ns('pub'))
    await bootstrap.waitFor((record) => record.type === 'listening')
    return ['--bootstrap', `203.0.113.1:${port}`, '--json']
  }

  t.test('alice behind a mapping NAT and bob behind another NAT pair with a code', async (t) => {
    const home = await tempHome(t)
    const network = await startBootstrap(t, home, 4000)
    const alice = startCli(
      t,
      home,
      ['--instance', 'alice', 'generate', '--name', 'alice', '--port-mapping', ...network],
      {},
      lab.ns('hostA'),
    )
    const { code } = await alice.waitFor((record) => record.type === 'code', 30_000)
    const advertised = await alice.waitFor((record) => record.type === 'advertised', 30_000)
    const mapped = (advertised.addresses as string[]).find((address) => address.startsWith('203.0.113.2:'))
    t.ok(mapped, `the advert carries rtrA's mapped address: ${JSON.stringify(advertised.addresses)}`)

    const bob = startCli(
      t,
      home,
      ['--instance', 'bob', 'join', String(code), '--name', 'bob', ...network],
      {},
      lab.ns('hostB'),
    )
    const bobResult = await bob.exited
    t.equal(bobResult.code, 0, bobResult.stdout + bobResult.stderr)
    const bobSteps = jsonLines(bobResult.stdout)
    t.match(
      bobSteps.find((r) => r.type === 'peer-connected'),
      { address: mapped },
      'bob reached alice through the mapping',
    )
    t.match(bobSteps.at(-1), { type: 'paired', device: { name: 'alice' } })
    const aliceResult = await alice.exited
    t.equal(aliceResult.code, 0, aliceResult.stderr)
    t.match(jsonLines(aliceResult.stdout).at(-1), { type: 'paired', device: { name: 'bob' } })
  })

  t.test('as daemons behind their NATs, alice and bob pair and report each other online', async (t) => {
    const home = await tempHome(t)
    const network = await startBootstrap(t, home, 4100)
    const daemon = (name: string, node: string, flags: string[]) => {
      const args = ['--instance', name, 'start', '--foreground', '--name', name, ...flags, ...network]
      return startCli(t, home, args, {}, lab.ns(node))
    }
    const daemons = [daemon('alice', 'hostA', ['--port-mapping']), daemon('bob', 'hostB', [])]
    for (const started of daemons) await started.waitFor((record) => record.type === 'started', 30_000)
    // The CLI talks to each daemon over its Unix socket, which works from any network namespace.
    const generate = startCli(t, home, ['--instance', 'alice', 'generate', '--json'])
    const { code } = await generate.waitFor((record) => record.type === 'code', 30_000)
    const join = await runCli(home, ['--instance', 'bob', 'join', String(code), '--json'], 60_000)
    t.equal(join.code, 0, join.stdout + join.stderr)
    t.equal((await generate.exited).code, 0)
    for (const name of ['alice', 'bob']) {
      const peer = await onlinePeer(home, name)
      t.equal(peer?.online, true, `${name} reports its peer online: ${JSON.stringify(peer)}`)
    }
    for (const name of ['alice', 'bob']) await runCli(home, ['--instance', name, 'stop'])
  })
}

/** The paired device in `pairctl status --json` of `instance`, once online (asked for up to 30 s). */
async function onlinePeer(home: string, instance: string): Promise<{ online: boolean | null } | undefined> {
  let peer: { online: boolean | null } | undefined
  for (let waited = 0; waited < 30_000 && peer?.online !== true; waited += 500) {
    await new Promise((resolve) => setTimeout(resolve, 500))
    const status = jsonLines((await runCli(home, ['--instance', instance, 'status', '--json'])).stdout)[0]
    peer = (status?.paired as { online: boolean | null }[] | undefined)?.[0]
  }
  return peer
}
