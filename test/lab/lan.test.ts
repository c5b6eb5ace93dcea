/**
 * Two devices on one LAN with no bootstrap node (spec/discovery.md): hostA and hostC share rtrA's LAN.
 * Each is a device of its own (its own PAIRCTL_HOME) and runs the README's commands with no flag:
 * `pairctl generate` on one, `pairctl join CODE` on the other, then `pairctl start` on both and a
 * message. A stock DNS-SD browser (avahi, in rtrA) sees the service. A daemon started while its LAN
 * interface was down finds the other device once the interface comes up. Needs root; `npm run test:lab`.
 */
import t from 'tap'
import { jsonLines, runCli, startCli, tempHome } from '../cli/helpers/cli.js'
import { withLab } from './helpers/suite.js'

await withLab('lan', async (lab) => {
  t.test('generate and join with no flags pair two devices of one LAN', async (t) => {
    const [homeA, homeC] = [await tempHome(t), await tempHome(t)]
    const generate = startCli(t, homeA, ['generate', '--json'], {}, lab.ns('hostA'))
    const { code } = await generate.waitFor((record) => record.type === 'code', 60_000)
    const advertised = await generate.waitFor((record) => record.type === 'advertised', 60_000)
    t.ok(
      (advertised.addresses as string[]).includes(
        `192.168.1.2:${(advertised.addresses as string[])[0]!.split(':')[1]}`,
      ),
      `the advert carries the LAN address: ${JSON.stringify(advertised.addresses)}`,
    )

    const browsed = lab.script(['browse', '_pairctl._udp'])
    t.match(
      browsed,
      /^=;lan;IPv4;pairctl-[0-9a-f]{8};_pairctl\._udp;local;pairctl-[0-9a-f]{8}\.local;192\.168\.1\.2;\d+;"v=1"$/m,
      'avahi-browse resolves the service',
    )

    const join = startCli(t, homeC, ['join', String(code), '--json'], {}, lab.ns('hostC'))
    const joined = await join.exited
    t.equal(joined.code, 0, joined.stdout + joined.stderr)
    const steps = jsonLines(joined.stdout)
    t.match(
      steps.find((step) => step.type === 'peer-connected'),
      { address: /^192\.168\.1\.2:\d+$/, path: 'direct' },
      'hostC reached hostA on the LAN',
    )
    t.match(steps.at(-1), { type: 'paired' })
    const generated = await generate.exited
    t.equal(generated.code, 0, generated.stderr)
    t.match(jsonLines(generated.stdout).at(-1), { type: 'paired' })

    // Both now run daemons, still with no flag: presence on the LAN links them and a message gets through.
    const startA = startCli(t, homeA, ['start', '--foreground', '--json'], {}, lab.ns('hostA'))
    const startC = startCli(t, homeC, ['start', '--foreground', '--json'], {}, lab.ns('hostC'))
    for (const daemon of [startA, startC]) await daemon.waitFor((record) => record.type === 'started', 60_000)
    const [listed] = jsonLines((await runCli(homeC, ['devices', '--json'])).stdout)
    const deviceA = (listed!.devices as { deviceId: string }[])[0]
    const listen = startCli(t, homeA, ['listen', '--json'])
    await listen.waitFor((record) => record.type === 'listening', 30_000)
    let sent = await runCli(
      homeC,
      ['send', String(deviceA!.deviceId), 'hello over the LAN', '--json'],
      60_000,
    )
    for (let tries = 0; sent.code !== 0 && tries < 60; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      sent = await runCli(homeC, ['send', String(deviceA!.deviceId), 'hello over the LAN', '--json'], 60_000)
    }
    t.equal(sent.code, 0, sent.stdout + sent.stderr)
    const message = await listen.waitFor((record) => record.type === 'message', 30_000)
    t.match(message, { text: 'hello over the LAN' })
    const [status] = jsonLines((await runCli(homeA, ['status', '--json'])).stdout)
    t.match(status, { dht: { bootstrap: [], lan: { interfaces: ['192.168.1.2'], peers: 1 } } })
    for (const home of [homeA, homeC]) await runCli(home, ['stop'], 60_000)
  })

  t.test('a daemon started before its LAN interface came up pairs once it does, with no flags', async (t) => {
    const [homeA, homeC] = [await tempHome(t), await tempHome(t)]
    const bringUp = () => {
      lab.exec('hostC', 'ip', ['link', 'set', 'eth0', 'up'])
      lab.exec('hostC', 'ip', ['route', 'replace', 'default', 'via', '192.168.1.1'])
    }
    lab.exec('hostC', 'ip', ['link', 'set', 'eth0', 'down'])
    t.teardown(bringUp)
    const daemonC = startCli(t, homeC, ['start', '--foreground', '--json'], {}, lab.ns('hostC'))
    await daemonC.waitFor((record) => record.type === 'started', 60_000)
    const [before] = jsonLines((await runCli(homeC, ['status', '--json'])).stdout)
    t.match(before, { dht: { lan: { interfaces: [], peers: 0 } } }, 'no LAN interface at start')
    bringUp()

    const generate = startCli(t, homeA, ['generate', '--json'], {}, lab.ns('hostA'))
    const { code } = await generate.waitFor((record) => record.type === 'code', 60_000)
    const join = startCli(t, homeC, ['join', String(code), '--json'], {}, lab.ns('hostC'))
    const joined = await join.exited
    t.equal(joined.code, 0, joined.stdout + joined.stderr)
    t.match(jsonLines(joined.stdout).at(-1), { type: 'paired' })
    t.equal((await generate.exited).code, 0)
    const [after] = jsonLines((await runCli(homeC, ['status', '--json'])).stdout)
    t.match(after, { dht: { lan: { interfaces: ['192.168.1.3'] } } }, 'discovery runs on the new interface')
    await runCli(homeC, ['stop'], 60_000)
  })
})
