import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { jsonLines, runCli, tempHome } from './helpers/cli.js'

t.test('id --json prints the same device ID twice and stores the identity with mode 0600', async (t) => {
  const home = await tempHome(t)
  const first = await runCli(home, ['id', '--instance', 'a', '--json'])
  const second = await runCli(home, ['--instance', 'a', 'id', '--json'])
  t.equal(first.code, 0, first.stderr)
  t.equal(second.code, 0, second.stderr)
  const [a] = jsonLines(first.stdout)
  const [b] = jsonLines(second.stdout)
  t.match(a, { deviceId: /^([A-Z2-7]{4}-){6}[A-Z2-7]{4}$/ })
  t.same(b, a)
  const file = join(home, 'instances', 'a', 'identity.json')
  t.equal((await stat(file)).mode & 0o777, 0o600)
  t.equal((await stat(join(home, 'instances', 'a'))).mode & 0o777, 0o700)
  const other = await runCli(home, ['id', '--instance', 'b'])
  t.not(other.stdout.trim(), a?.deviceId, 'another instance has another identity')
})

t.test('an unknown command exits 2 with a suggestion and a hint', async (t) => {
  const home = await tempHome(t)
  const result = await runCli(home, ['idd'])
  t.equal(result.code, 2)
  t.match(result.stderr, /Did you mean id\?/)
  t.match(result.stderr, /pairctl --help/)
})

t.test('an unknown flag and a bad instance name exit 2', async (t) => {
  const home = await tempHome(t)
  const flag = await runCli(home, ['id', '--frobnicate'])
  t.equal(flag.code, 2)
  t.match(flag.stderr, /Unknown argument: frobnicate/)
  const instance = await runCli(home, ['id', '--instance', '../escape', '--json'])
  t.equal(instance.code, 2)
  t.match(jsonLines(instance.stdout)[0], { type: 'error', code: 'IDENTITY_BAD_INSTANCE' })
})

t.test('--version prints the package version and --help lists the commands', async (t) => {
  const home = await tempHome(t)
  const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'))
  const version = await runCli(home, ['--version'])
  t.equal(version.code, 0)
  t.equal(version.stdout.trim(), manifest.version)
  const help = await runCli(home, ['--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /pairctl id/)
  t.match(help.stdout, /Exit codes:/)
})

t.test('the seed spelling "pair generate|join" is accepted; "pair" alone is a usage error', async (t) => {
  const home = await tempHome(t)
  const help = await runCli(home, ['pair', 'join', '--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /Pair with the device showing this code/)
  const bare = await runCli(home, ['pair'])
  t.equal(bare.code, 2)
  t.match(bare.stderr, /pair generate, or pair join/)
})
