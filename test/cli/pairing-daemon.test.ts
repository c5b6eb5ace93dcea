import t from 'tap'
import { jsonLines, runCli, startBootstrap, startCli, tempHome } from './helpers/cli.js'
import { deviceIdOf, devicesOf, loopback } from './helpers/pairing.js'

t.test('through daemons: pairing, status and devices come from the daemons', async (t) => {
  const home = await tempHome(t)
  const bootstrap = await startBootstrap(t, home)
  const pids: number[] = []
  t.teardown(() => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
  })
  for (const name of ['alice', 'bob']) {
    const started = await runCli(home, [
      'start',
      '--instance',
      name,
      '--name',
      name,
      '--json',
      ...loopback(bootstrap),
    ])
    t.equal(started.code, 0, started.stdout + started.stderr)
    pids.push(jsonLines(started.stdout)[0]!.pid as number)
  }
  const generate = startCli(t, home, ['--instance', 'alice', 'generate', '--json'])
  const { code } = await generate.waitFor((record) => record.type === 'code')
  const join = await runCli(home, ['--instance', 'bob', 'join', String(code), '--json'])
  t.equal(join.code, 0, join.stdout + join.stderr)
  t.equal((await generate.exited).code, 0)
  const status = await statusWhen(home, 'alice', (paired) => paired[0]?.online === true)
  t.match(status, { running: true, pid: pids[0], paired: [{ name: 'bob', online: true }] })
  t.type((status.paired as { lastSeen: unknown }[])[0]?.lastSeen, 'string')
  t.ok((status.listen as unknown[]).length > 0, 'the daemon reports its listen addresses')
  const listen = startCli(t, home, ['--instance', 'bob', 'listen', '--count', '1', '--json'])
  await listen.waitFor((record) => record.type === 'listening')
  const sent = await runCli(home, ['--instance', 'alice', 'send', 'bob', 'hello', 'bob', '--json'])
  t.match(jsonLines(sent.stdout)[0], { type: 'sent', to: { name: 'bob' }, text: 'hello bob' })
  t.match(await listen.waitFor((record) => record.type === 'message'), { name: 'alice', text: 'hello bob' })
  t.equal((await listen.exited).code, 0, 'listen --count 1 exits after one message')
  const unknown = await runCli(home, ['--instance', 'alice', 'send', 'nobody', 'hi', '--json'])
  t.match(jsonLines(unknown.stdout)[0], { type: 'error', code: 'NODE_UNKNOWN_DEVICE' })
  t.equal(unknown.code, 1)
  t.equal(status.natType, 'none', 'classified by STUN against the bootstrap node: no NAT on loopback')
  t.same(await devicesOf(home, 'bob'), [await deviceIdOf(home, 'alice')])
  const unpair = await runCli(home, ['unpair', 'bob', '--instance', 'alice', '--json'])
  t.match(jsonLines(unpair.stdout)[0], { removed: { name: 'bob' } })
  t.same(await devicesOf(home, 'alice'), [])
  for (const name of ['alice', 'bob']) t.equal((await runCli(home, ['stop', '--instance', name])).code, 0)
})

/** `pairctl status --json` of `instance`, asked again (≤ 10 times) until `paired` satisfies `ready`. */
async function statusWhen(
  home: string,
  instance: string,
  ready: (paired: { online: boolean | null }[]) => boolean,
): Promise<Record<string, unknown>> {
  for (let attempt = 1; ; attempt++) {
    const status = jsonLines((await runCli(home, ['status', '--instance', instance, '--json'])).stdout)[0]!
    if (ready(status.paired as { online: boolean | null }[]) || attempt === 10) return status
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
}
