import t from 'tap'
import { jsonLines, runCli, startBootstrap, startCli, tempHome } from './helpers/cli.js'
import { deviceIdOf, devicesOf, loopback, storedDevices } from './helpers/pairing.js'

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
  t.same(await storedDevices(home, 'bob'), [alice])
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
