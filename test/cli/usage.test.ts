import t from 'tap'
import { jsonLines, tempHome } from './helpers/cli.js'
import { runInProcess as runCli } from './helpers/in-process.js'

t.test('bad ports are usage errors (exit 2) naming the flag and the range, for every command', async (t) => {
  const home = await tempHome(t)
  const cases: [string, string][] = [
    ['bootstrap', '99999'],
    ['start', '-1'],
    ['generate', '1.5'],
    ['join', 'abc'],
  ]
  for (const [command, port] of cases) {
    const result = await runCli(home, [command, '--port', port])
    t.equal(result.code, 2, `${command} --port ${port}`)
    t.match(result.stderr, `--port must be a whole number from 0 to 65535 (0: any free port), not "${port}"`)
  }
})

t.test('ttl, words, count and bootstrap nodes are checked in the words of the flags', async (t) => {
  const home = await tempHome(t)
  const cases: [string[], RegExp][] = [
    [['generate', '--words', '3'], /--words must be a whole number from 5 to 24, not "3"/],
    [['generate', '--timeout', '1000'], /--timeout must be a whole number from 1 to 900 seconds/],
    [['join', '--timeout', '0', 'acid'], /--timeout must be a whole number from 1 to 3600 seconds/],
    [['listen', '--count', '0'], /--count must be a whole number from 1/],
    [['start', '--bootstrap', 'nohost'], /--bootstrap takes HOST:PORT with a port from 1 to 65535/],
    [['config', 'set', 'port', 'abc'], /invalid value for port: "abc" is not a whole number/],
  ]
  for (const [args, message] of cases) {
    const result = await runCli(home, [...args, '--json'])
    t.equal(result.code, 2, args.join(' '))
    t.match(jsonLines(result.stdout), [{ type: 'error', message }], args.join(' '))
    t.notMatch(result.stdout, /ttlMs|Too (small|big)|invalid pairing code/, 'no internal names')
  }
})

t.test('send refuses an empty or oversized message with one error naming the limit', async (t) => {
  const home = await tempHome(t)
  for (const size of [0, 65_000, 100_000]) {
    const result = await runCli(home, ['send', 'bob', 'x'.repeat(size), '--json'])
    t.equal(result.code, 2, `${size} bytes`)
    t.match(jsonLines(result.stdout), [
      {
        type: 'error',
        code: 'CLI_USAGE',
        message: `must be 1 to 16384 bytes of UTF-8 text; this one is ${size} bytes`,
      },
    ])
  }
})

t.test('"gen" suggests generate; --version --json is an object', async (t) => {
  const home = await tempHome(t)
  const gen = await runCli(home, ['gen'])
  t.equal(gen.code, 2)
  t.match(gen.stderr, /Did you mean generate\?/)
  const version = await runCli(home, ['--version', '--json'])
  t.match(jsonLines(version.stdout), [{ type: 'version', version: /^\d+\.\d+\.\d+/ }])
})

t.test(
  'every JSON record has a type; offline status says it is offline, without daemon fields',
  async (t) => {
    const home = await tempHome(t)
    const [id] = jsonLines((await runCli(home, ['id', '--json'])).stdout)
    t.match(id, { type: 'id', deviceId: String })
    t.same(jsonLines((await runCli(home, ['devices', '--json'])).stdout), [{ type: 'devices', devices: [] }])
    const [status] = jsonLines((await runCli(home, ['status', '--json'])).stdout)
    t.match(status, { type: 'status', running: false, deviceId: id!.deviceId, paired: [] })
    t.notOk('pid' in status! || 'name' in status!, 'no pid 0 or name "-" stand-ins')
    const [config] = jsonLines((await runCli(home, ['config', 'list', '--json'])).stdout)
    t.match(config, { type: 'config-list', values: { bootstrap: null } })
  },
)

t.test('config set/get/unset round-trips, validated, and PAIRCTL_BOOTSTRAP is checked too', async (t) => {
  const home = await tempHome(t)
  const set = await runCli(home, [
    '--instance',
    'a',
    'config',
    'set',
    'bootstrap',
    '127.0.0.1:7,[::1]:8',
    '--json',
  ])
  t.match(jsonLines(set.stdout), [{ type: 'config', key: 'bootstrap', value: ['127.0.0.1:7', '[::1]:8'] }])
  const get = await runCli(home, ['--instance', 'a', 'config', 'get', 'bootstrap'])
  t.equal(get.stdout.trim(), '127.0.0.1:7 [::1]:8')
  await runCli(home, ['--instance', 'a', 'config', 'unset', 'bootstrap'])
  t.equal((await runCli(home, ['--instance', 'a', 'config', 'get', 'bootstrap'])).stdout.trim(), '(not set)')
  const unknown = await runCli(home, ['config', 'get', 'colour'])
  t.equal(unknown.code, 2)
})
