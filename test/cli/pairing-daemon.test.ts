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
  const status = jsonLines((await runCli(home, ['status', '--instance', 'alice', '--json'])).stdout)[0]!
  t.match(status, { running: true, pid: pids[0], paired: [{ name: 'bob', online: null }] })
  t.ok((status.listen as unknown[]).length > 0, 'the daemon reports its listen addresses')
  t.equal(status.natType, 'none', 'classified by STUN against the bootstrap node: no NAT on loopback')
  t.same(await devicesOf(home, 'bob'), [await deviceIdOf(home, 'alice')])
  const unpair = await runCli(home, ['unpair', 'bob', '--instance', 'alice', '--json'])
  t.match(jsonLines(unpair.stdout)[0], { removed: { name: 'bob' } })
  t.same(await devicesOf(home, 'alice'), [])
  for (const name of ['alice', 'bob']) t.equal((await runCli(home, ['stop', '--instance', name])).code, 0)
})
