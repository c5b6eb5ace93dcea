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
import { startBootstrap } from './helpers/pairing.js'
import { withLab } from './helpers/suite.js'

await withLab('pr', async (lab) => {
  const network = async (t: Parameters<typeof startCli>[0], home: string, port: number) => [
    ...(await startBootstrap(t, lab, home, port)),
    '--json',
  ]

  t.test('alice behind a mapping NAT and bob behind another NAT pair with a code', async (t) => {
    const home = await tempHome(t)
    const flags = await network(t, home, 4000)
    const alice = startCli(
      t,
      home,
      ['--instance', 'alice', 'generate', '--name', 'alice', ...flags],
      {},
      lab.ns('hostA'),
    )
    const { code } = await alice.waitFor((record) => record.type === 'code', 90_000)
    const advertised = await alice.waitFor((record) => record.type === 'advertised', 90_000)
    const mapped = (advertised.addresses as string[]).find((address) => address.startsWith('203.0.113.2:'))
    t.ok(mapped, `the advert carries rtrA's mapped address: ${JSON.stringify(advertised.addresses)}`)

    const bob = startCli(
      t,
      home,
      ['--instance', 'bob', 'join', String(code), '--name', 'bob', ...flags],
      {},
      lab.ns('hostB'),
    )
    const bobResult = await bob.exited
    t.equal(bobResult.code, 0, bobResult.stdout + bobResult.stderr)
    const bobSteps = jsonLines(bobResult.stdout)
    t.match(
      bobSteps.find((r) => r.type === 'peer-connected'),
      { address: mapped, path: 'mapped' },
      'bob reached alice through the mapping',
    )
    t.match(bobSteps.at(-1), { type: 'paired', device: { name: 'alice' } })
    const aliceResult = await alice.exited
    t.equal(aliceResult.code, 0, aliceResult.stderr)
    const aliceSteps = jsonLines(aliceResult.stdout)
    t.match(
      aliceSteps.find((r) => r.type === 'peer-connected'),
      { path: 'mapped' },
      'alice saw bob come in through it',
    )
    t.match(aliceSteps.at(-1), { type: 'paired', device: { name: 'bob' } })
  })

  t.test('as daemons behind their NATs, alice and bob pair and report each other online', async (t) => {
    const home = await tempHome(t)
    const flags = await network(t, home, 4100)
    const daemon = (name: string, node: string, extra: string[]) => {
      const args = ['--instance', name, 'start', '--foreground', '--name', name, ...extra, ...flags]
      return startCli(t, home, args, {}, lab.ns(node))
    }
    const daemons = [daemon('alice', 'hostA', []), daemon('bob', 'hostB', [])]
    for (const started of daemons) await started.waitFor((record) => record.type === 'started', 90_000)
    // The CLI talks to each daemon over its Unix socket, which works from any network namespace.
    const generate = startCli(t, home, ['--instance', 'alice', 'generate', '--json'])
    const { code } = await generate.waitFor((record) => record.type === 'code', 90_000)
    const join = await runCli(home, ['--instance', 'bob', 'join', String(code), '--json'], 60_000)
    t.equal(join.code, 0, join.stdout + join.stderr)
    t.equal((await generate.exited).code, 0)
    for (const name of ['alice', 'bob']) {
      const peer = await onlinePeer(home, name)
      t.equal(peer?.online, true, `${name} reports its peer online: ${JSON.stringify(peer)}`)
    }
    // Alice's daemon restarts on another port: her new presence record (a new mapping) brings bob back.
    await runCli(home, ['--instance', 'alice', 'stop'])
    await daemons[0]!.exited
    t.equal((await onlinePeer(home, 'bob', false))?.online, false, 'bob saw alice go offline')
    const restarted = daemon('alice', 'hostA', ['--port', '4711'])
    await restarted.waitFor((record) => record.type === 'started', 90_000)
    const status = jsonLines((await runCli(home, ['--instance', 'alice', 'status', '--json'])).stdout)[0]
    t.match(status, { listen: [{ port: 4711 }] }, 'alice listens on the new port')
    for (const name of ['bob', 'alice']) {
      const peer = await onlinePeer(home, name, true, 90_000)
      t.equal(
        peer?.online,
        true,
        `after the restart ${name} reports its peer online: ${JSON.stringify(peer)}`,
      )
    }
    for (const name of ['alice', 'bob']) await runCli(home, ['--instance', name, 'stop'])
  })
})

/** The paired device in `pairctl status --json` of `instance`, once its `online` is `wanted` (asked for up to `ms`). */
async function onlinePeer(
  home: string,
  instance: string,
  wanted = true,
  ms = 30_000,
): Promise<{ online: boolean | null } | undefined> {
  let peer: { online: boolean | null } | undefined
  for (let waited = 0; waited < ms && peer?.online !== wanted; waited += 500) {
    await new Promise((resolve) => setTimeout(resolve, 500))
    const status = jsonLines((await runCli(home, ['--instance', instance, 'status', '--json'])).stdout)[0]
    peer = (status?.paired as { online: boolean | null }[] | undefined)?.[0]
  }
  return peer
}
