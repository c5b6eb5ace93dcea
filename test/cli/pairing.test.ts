import { wordlist } from '@scure/bip39/wordlists/english.js'
import t from 'tap'
import { jsonLines, runCli, startBootstrap, startCli, tempHome } from './helpers/cli.js'

const loopback = (bootstrap: string) => ['--host', '127.0.0.1', '--bootstrap', bootstrap]

async function deviceIdOf(home: string, instance: string): Promise<string> {
  const [record] = jsonLines((await runCli(home, ['id', '--instance', instance, '--json'])).stdout)
  return record!.deviceId as string
}

async function devicesOf(home: string, instance: string): Promise<string[]> {
  const result = await runCli(home, ['devices', '--instance', instance, '--json'])
  const [record] = jsonLines(result.stdout)
  return (record!.devices as { deviceId: string }[]).map((device) => device.deviceId)
}

/** The same code with its last (secret) word replaced by another word. */
function wrongCode(code: string): string {
  const words = code.split('-')
  const last = words.pop()!
  const other = wordlist.find((word) => word.slice(0, 4) !== last.slice(0, 4))!
  return [...words, other].join('-')
}

t.test('embedded: generate and join pair two instances, both sides see every step', async (t) => {
  const home = await tempHome(t)
  const bootstrap = await startBootstrap(t, home)
  const [alice, bob] = [await deviceIdOf(home, 'alice'), await deviceIdOf(home, 'bob')]
  const generate = startCli(t, home, [
    '--instance',
    'alice',
    'generate',
    '--name',
    'alice',
    '--json',
    ...loopback(bootstrap),
  ])
  const { code } = await generate.waitFor((record) => record.type === 'code')
  t.match(code, /^[a-z]+(-[a-z]+){4}$/, 'a five-word code')
  await generate.waitFor((record) => record.type === 'advertised')
  const join = await runCli(home, [
    'pair',
    'join',
    String(code),
    '--instance',
    'bob',
    '--name',
    'bob',
    '--json',
    ...loopback(bootstrap),
  ])
  t.equal(join.code, 0, join.stdout + join.stderr)
  const joined = jsonLines(join.stdout)
  t.match(joined.at(-1), { type: 'paired', device: { deviceId: alice, name: 'alice' } })
  t.ok(
    joined.some((record) => record.type === 'peer-connected'),
    'bob reports the connection',
  )
  const generated = await generate.exited
  t.equal(generated.code, 0, generated.stderr)
  const steps = jsonLines(generated.stdout).map((record) => record.type)
  t.same(steps.slice(0, 2), ['code', 'advertised'])
  t.ok(steps.includes('verifying'))
  t.match(jsonLines(generated.stdout).at(-1), { type: 'paired', device: { deviceId: bob, name: 'bob' } })
  t.same(await devicesOf(home, 'alice'), [bob])
  t.same(await devicesOf(home, 'bob'), [alice])
})

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
  t.equal(status.natType, 'unknown')
  t.same(await devicesOf(home, 'bob'), [await deviceIdOf(home, 'alice')])
  const unpair = await runCli(home, ['unpair', 'bob', '--instance', 'alice', '--json'])
  t.match(jsonLines(unpair.stdout)[0], { removed: { name: 'bob' } })
  t.same(await devicesOf(home, 'alice'), [])
  for (const name of ['alice', 'bob']) t.equal((await runCli(home, ['stop', '--instance', name])).code, 0)
})

t.test('a wrong code fails on both sides with exit 3 and pairs nothing', async (t) => {
  const home = await tempHome(t)
  const bootstrap = await startBootstrap(t, home)
  const generate = startCli(t, home, ['--instance', 'alice', 'generate', '--json', ...loopback(bootstrap)])
  const { code } = await generate.waitFor((record) => record.type === 'code')
  const join = await runCli(home, [
    '--instance',
    'bob',
    'join',
    wrongCode(String(code)),
    '--json',
    ...loopback(bootstrap),
  ])
  t.equal(join.code, 3, join.stdout + join.stderr)
  t.match(jsonLines(join.stdout).at(-1), { type: 'error', code: 'PAIRING_WRONG_CODE' })
  const generated = await generate.exited
  t.equal(generated.code, 3, generated.stdout)
  t.match(jsonLines(generated.stdout).at(-1), { type: 'error', code: /PAIRING_(WRONG_CODE|CODE_BURNED)/ })
  t.same(await devicesOf(home, 'alice'), [])
  t.same(await devicesOf(home, 'bob'), [])
})

t.test('Ctrl-C on generate withdraws the advert: exit 130, then joining finds nothing', async (t) => {
  const home = await tempHome(t)
  const bootstrap = await startBootstrap(t, home)
  const generate = startCli(t, home, ['--instance', 'alice', 'generate', ...loopback(bootstrap), '--json'])
  const { code } = await generate
    .waitFor((record) => record.type === 'advertised')
    .then(() => generate.records[0]!)
  generate.child.kill('SIGINT')
  const interrupted = await generate.exited
  t.equal(interrupted.code, 130, interrupted.stdout)
  t.match(jsonLines(interrupted.stdout).at(-1), { type: 'error', code: 'CLI_INTERRUPTED' })
  const join = await runCli(home, [
    '--instance',
    'bob',
    'join',
    String(code),
    '--timeout',
    '3',
    '--json',
    ...loopback(bootstrap),
  ])
  t.equal(join.code, 4, join.stdout)
  t.match(jsonLines(join.stdout).at(-1), { type: 'error', code: /PAIRING_(NOT_FOUND|TIMEOUT)/ })
})

t.test('bad codes are usage errors before any network use', async (t) => {
  const home = await tempHome(t)
  const result = await runCli(home, ['join', 'notaword', 'xyzzy', 'abandon', 'ability', 'able', '--json'])
  t.equal(result.code, 2, result.stdout)
  t.match(jsonLines(result.stdout).at(-1), { type: 'error', code: /PAIRING_(UNKNOWN_WORD|BAD_CODE)/ })
})

t.test('--confirm without a terminal is a usage error', async (t) => {
  const home = await tempHome(t)
  const result = await runCli(home, ['generate', '--confirm', '--json'])
  t.equal(result.code, 2)
  t.match(jsonLines(result.stdout).at(-1), {
    type: 'error',
    code: 'CLI_USAGE',
    message: /--confirm needs a terminal/,
  })
})
