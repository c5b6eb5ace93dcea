import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { jsonLines, runCli, tempHome } from './helpers/cli.js'

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {}
}

t.test('start detaches, refuses a second daemon, serves status on a 0600 socket, and stops', async (t) => {
  const home = await tempHome(t)
  const started = await runCli(home, ['--instance', 'alice', 'start', '--host', '127.0.0.1', '--json'])
  t.equal(started.code, 0, started.stderr + started.stdout)
  const [event] = jsonLines(started.stdout)
  t.match(event, { type: 'started', pid: Number })
  const pid = event!.pid as number
  t.teardown(() => killQuietly(pid))
  const dir = join(home, 'instances', 'alice')
  t.equal((await stat(join(dir, 'control.sock'))).mode & 0o777, 0o600, 'control socket is owner-only')
  t.equal((await stat(dir)).mode & 0o777, 0o700, 'instance directory is owner-only')

  const second = await runCli(home, ['--instance', 'alice', 'start', '--json'])
  t.equal(second.code, 6, 'a second daemon on the same instance is refused')
  t.match(jsonLines(second.stdout)[0], {
    type: 'error',
    code: 'CONTROL_DAEMON_RUNNING',
    message: /pairctl stop/,
  })

  const id = jsonLines((await runCli(home, ['id', '--instance', 'alice', '--json'])).stdout)[0]
  const status = await runCli(home, ['status', '--instance', 'alice', '--json'])
  t.equal(status.code, 0)
  t.match(jsonLines(status.stdout)[0], { running: true, pid, deviceId: id?.deviceId, paired: [] })

  const stopped = await runCli(home, ['stop', '--instance', 'alice', '--json'])
  t.equal(stopped.code, 0, stopped.stdout)
  t.throws(() => process.kill(pid, 0), 'the daemon process has exited')
  await t.rejects(stat(join(dir, 'control.sock')), 'the socket is removed')
  const again = await runCli(home, ['stop', '--instance', 'alice'])
  t.equal(again.code, 6)
  t.match(again.stderr, /no pairctl daemon is running for instance "alice"; start one with/)
  const offline = await runCli(home, ['status', '--instance', 'alice', '--json'])
  t.match(jsonLines(offline.stdout)[0], { running: false, deviceId: id?.deviceId })
})

t.test('devices and unpair without a daemon', async (t) => {
  const home = await tempHome(t)
  const list = await runCli(home, ['devices', '--json'])
  t.equal(list.code, 0)
  t.same(jsonLines(list.stdout), [{ type: 'devices', devices: [] }])
  const unpair = await runCli(home, ['unpair', 'nobody'])
  t.equal(unpair.code, 1)
  t.match(
    unpair.stderr,
    /no paired device matches "nobody" \(give a device ID, at least 4 leading characters of one, or a name\); list them with: pairctl devices/,
  )
})
