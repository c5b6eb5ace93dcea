/**
 * Another user on the same machine (SECURITY.md §7), played for real: a paired device's daemon runs as
 * root with the README's commands, and a process as user `nobody` tries to read its keys and store and
 * to drive its control socket with ordinary tools. The home is world-searchable (0755, as most homes
 * are), and a second round opens the instance directory too, so what holds is pairctl's own file modes.
 * Needs root (to switch users and for the lab namespaces); `npm run test:lab`.
 */
import { spawnSync } from 'node:child_process'
import { chmod, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { jsonLines, runCli, startCli, tempHome } from '../cli/helpers/cli.js'
import { withLab } from './helpers/suite.js'

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups']

/** Runs `args` as user nobody; its exit status and what it printed. */
function asNobody(args: string[]): { status: number | null; stdout: string; output: string } {
  const result = spawnSync('setpriv', [...NOBODY, ...args], { encoding: 'utf8', timeout: 20_000 })
  return { status: result.status, stdout: result.stdout, output: `${result.stdout}${result.stderr}` }
}

/** Connects to a Unix socket as nobody and prints what happened: "connected" or the error code. */
function connectAsNobody(socketPath: string): string {
  const script = `require('net').connect(${JSON.stringify(socketPath)})
    .on('connect', function () { console.log('connected'); this.destroy() })
    .on('error', (err) => console.log(err.code))`
  // stdout only: the test runner hooks child node processes and their exit report fails as nobody.
  return asNobody([process.execPath, '-e', script]).stdout.trim()
}

await withLab('user', async (lab) => {
  t.test(
    "another local user reads none of a device's keys or store and cannot drive its daemon",
    async (t) => {
      const [homeA, homeC] = [await tempHome(t), await tempHome(t)]
      await chmod(homeA, 0o755)
      const generate = startCli(t, homeA, ['generate', '--json'], {}, lab.ns('hostA'))
      const { code } = await generate.waitFor((record) => record.type === 'code', 60_000)
      const joined = await startCli(t, homeC, ['join', String(code), '--json'], {}, lab.ns('hostC')).exited
      t.equal(joined.code, 0, joined.stderr)
      t.equal((await generate.exited).code, 0)
      const daemon = startCli(t, homeA, ['start', '--foreground', '--json'], {}, lab.ns('hostA'))
      await daemon.waitFor((record) => record.type === 'started', 60_000)

      const dir = join(homeA, 'instances', 'default')
      const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.name !== 'control.sock')
      const files = entries.map((entry) => entry.name)
      t.ok(files.includes('devices.json'), `the instance holds the paired device: ${files.join(', ')}`)
      const [listed] = jsonLines((await runCli(homeA, ['devices', '--json'])).stdout)
      t.equal((listed!.devices as unknown[]).length, 1, 'and its owner sees it')

      for (const round of ['as created', 'with the instance directory opened to 0755']) {
        if (round !== 'as created')
          for (const opened of [join(homeA, 'instances'), dir]) await chmod(opened, 0o755)
        for (const entry of entries) {
          const read = asNobody([entry.isDirectory() ? 'ls' : 'cat', join(dir, entry.name)])
          t.not(read.status, 0, `${round}: nobody cannot read ${entry.name}`)
          t.match(read.output, /Permission denied/)
        }
        t.equal(
          connectAsNobody(join(dir, 'control.sock')),
          'EACCES',
          `${round}: nor connect to the control socket`,
        )
      }
      t.equal(
        connectAsNobody('/nonexistent/control.sock'),
        'ENOENT',
        'control: the probe reports other errors',
      )
      t.same(
        jsonLines((await runCli(homeA, ['status', '--json'])).stdout).length,
        1,
        'the owner still drives the daemon',
      )
    },
  )
})
