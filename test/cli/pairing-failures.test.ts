import t from 'tap'
import { jsonLines, runCli, startBootstrap, startCli, tempHome } from './helpers/cli.js'
import { loopback, storedDevices, wrongCode } from './helpers/pairing.js'

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
  t.same(await storedDevices(home, 'alice'), [])
  t.same(await storedDevices(home, 'bob'), [])
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
  t.match(jsonLines(interrupted.stdout).at(-1), {
    type: 'error',
    code: 'CLI_INTERRUPTED',
    message: 'interrupted (Ctrl-C); nothing was paired',
  })
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
