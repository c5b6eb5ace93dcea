import { createSocket } from 'node:dgram'
import { access, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { jsonLines, runCli, startBootstrap, startCli, tempHome } from './helpers/cli.js'

// Each case starts daemons; on a loaded machine the file needs more than the default 180 s.
t.setTimeout(900_000)

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {}
}

/** Resolves once `path` exists (polled: a file another process creates). */
async function exists(path: string): Promise<void> {
  for (;;) {
    if (
      await access(path).then(
        () => true,
        () => false,
      )
    )
      return
    await sleep(50)
  }
}

t.test("a port in use: start names the port and the reason, and shows this run's log only", async (t) => {
  const home = await tempHome(t)
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  t.teardown(() => socket.close())
  const { port } = socket.address()
  const dir = join(home, 'instances', 'a')
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await writeFile(join(dir, 'daemon.log'), 'OLD RUN: something else failed\n')
  const result = await runCli(
    home,
    ['--instance', 'a', 'start', '--host', '127.0.0.1', '--port', String(port)],
    60_000,
  )
  t.equal(result.code, 1, result.stdout)
  t.match(result.stderr, `127.0.0.1:${port}`)
  t.match(result.stderr, /already in use/)
  t.notMatch(result.stderr, /OLD RUN/, "the previous run's lines are not shown")
  t.match(await readFile(join(dir, 'daemon.log.1'), 'utf8'), /OLD RUN/, 'the previous log is kept as .1')
})

t.test('right after start, commands wait for the daemon instead of failing on the lock', async (t) => {
  const home = await tempHome(t)
  // Nothing answers on port 9: the daemon waits for its DHT join before its socket is up.
  const daemon = startCli(t, home, [
    'start',
    '--foreground',
    '--host',
    '127.0.0.1',
    '--bootstrap',
    '127.0.0.1:9',
    '--json',
  ])
  await exists(join(home, 'instances', 'default', 'instance.lock'))
  const unpair = await runCli(home, ['unpair', 'nobody', '--json'], 60_000)
  t.match(
    jsonLines(unpair.stdout),
    [{ type: 'error', code: 'NODE_UNKNOWN_DEVICE' }],
    'answered by the daemon',
  )
  t.notMatch(unpair.stdout, /IDENTITY_INSTANCE_LOCKED/)
  const [status] = jsonLines((await runCli(home, ['status', '--json'], 60_000)).stdout)
  t.match(status, { type: 'status', running: true })
  daemon.child.kill('SIGTERM')
  t.equal((await daemon.exited).code, 0)
})

t.test('listen exits non-zero with a clear message when its daemon stops', async (t) => {
  const home = await tempHome(t)
  const started = await runCli(home, ['--instance', 'a', 'start', '--host', '127.0.0.1', '--json'], 60_000)
  const pid = jsonLines(started.stdout)[0]!.pid as number
  t.teardown(() => killQuietly(pid))
  const listen = startCli(t, home, ['--instance', 'a', 'listen', '--json'])
  await listen.waitFor((record) => record.type === 'listening', 60_000)
  await runCli(home, ['--instance', 'a', 'stop'], 60_000)
  const result = await listen.exited
  t.equal(result.code, 6)
  t.match(jsonLines(result.stdout).at(-1), {
    type: 'error',
    code: 'CONTROL_DAEMON_STOPPED',
    message: /stopped/,
  })
})

t.test('Ctrl-C on listen: exit 130, and the message claims nothing about pairing', async (t) => {
  const home = await tempHome(t)
  const started = await runCli(home, ['--instance', 'a', 'start', '--host', '127.0.0.1', '--json'], 60_000)
  const pid = jsonLines(started.stdout)[0]!.pid as number
  t.teardown(() => killQuietly(pid))
  const listen = startCli(t, home, ['--instance', 'a', 'listen', '--json'])
  await listen.waitFor((record) => record.type === 'listening', 60_000)
  listen.child.kill('SIGINT')
  const result = await listen.exited
  t.equal(result.code, 130)
  t.same(jsonLines(result.stdout).at(-1), {
    type: 'error',
    code: 'CLI_INTERRUPTED',
    message: 'interrupted (Ctrl-C)',
  })
  await runCli(home, ['--instance', 'a', 'stop'], 60_000)
})

t.test('start remembers --name and --host given to an earlier command', async (t) => {
  const home = await tempHome(t)
  // Fails (no DHT node), but only after the flags were remembered.
  await runCli(home, ['--instance', 'a', 'generate', '--name', 'carol', '--host', '127.0.0.1'], 60_000)
  const started = await runCli(home, ['--instance', 'a', 'start', '--json'], 60_000)
  t.equal(started.code, 0, started.stderr)
  const pid = jsonLines(started.stdout)[0]!.pid as number
  t.teardown(() => killQuietly(pid))
  const [status] = jsonLines((await runCli(home, ['--instance', 'a', 'status', '--json'])).stdout)
  t.match(status, { name: 'carol', listen: [{ host: '127.0.0.1' }, { host: '127.0.0.1' }] })
  await runCli(home, ['--instance', 'a', 'stop'], 60_000)
})

t.test('with no DHT node, join says so and what to pass, not "no device is advertising"', async (t) => {
  const home = await tempHome(t)
  const result = await runCli(
    home,
    ['join', 'acid', 'bulk', 'cove', 'dune', 'echo', '--host', '127.0.0.1', '--json'],
    60_000,
  )
  const error = jsonLines(result.stdout).at(-1)
  t.match(error, {
    type: 'error',
    code: 'NODE_NO_PEERS',
    message:
      /no DHT node answered.*pass --bootstrap HOST:PORT or set it with `pairctl config set bootstrap HOST:PORT`/,
  })
  t.notMatch(String(error?.message), /advertising/)
})

t.test('generate | head: a closed reader is no crash, and the hint has the whole join command', async (t) => {
  const home = await tempHome(t)
  const bootstrap = await startBootstrap(t, home)
  const generate = startCli(t, home, ['generate', '--host', '127.0.0.1', '--bootstrap', bootstrap])
  let text = ''
  await new Promise<void>((resolve) =>
    generate.child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      if (text.includes('On the other device run:')) resolve()
    }),
  )
  t.match(text, new RegExp(`pairctl join --bootstrap ${bootstrap} [a-z]+(-[a-z]+){4}`))
  generate.child.stdout!.destroy()
  // Let it write into the closed pipe (its next step), then interrupt it.
  await sleep(1000)
  generate.child.kill('SIGINT')
  const result = await generate.exited
  t.equal(result.code, 130)
  t.notMatch(result.stderr, /EPIPE|at Output/, 'no stack trace')
})

t.test('join --timeout N keeps looking for N seconds', async (t) => {
  const home = await tempHome(t)
  const bootstrap = await startBootstrap(t, home)
  const started = Date.now()
  const result = await runCli(
    home,
    [
      'join',
      'acid',
      'bulk',
      'cove',
      'dune',
      'echo',
      '--timeout',
      '6',
      '--host',
      '127.0.0.1',
      '--bootstrap',
      bootstrap,
      '--json',
    ],
    60_000,
  )
  t.ok(Date.now() - started >= 6000, 'did not give up before the timeout')
  t.equal(result.code, 4, result.stdout)
  t.match(jsonLines(result.stdout).at(-1), { type: 'error', code: /PAIRING_(TIMEOUT|NOT_FOUND)/ })
})
