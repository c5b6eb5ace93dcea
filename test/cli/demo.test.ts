import { spawn } from 'node:child_process'
import { access } from 'node:fs/promises'
import t from 'tap'

function running(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

t.test('Ctrl-C during npm run demo stops the daemons and removes the temporary directory', async (t) => {
  const demo = spawn(process.execPath, ['scripts/demo.mjs'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => demo.kill('SIGKILL'))
  let out = ''
  const pid = await new Promise<number>((resolve, reject) => {
    demo.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /alice is running \(pid (\d+)\)/.exec(out)
      if (match) resolve(Number(match[1]))
    })
    demo.on('close', () => reject(new Error(`the demo ended first: ${out}`)))
  })
  const home = /fresh PAIRCTL_HOME: (\S+)/.exec(out)![1]!
  const exited = new Promise<number | null>((resolve) => demo.on('close', resolve))
  demo.kill('SIGINT')
  t.equal(await exited, 130)
  t.notOk(running(pid), "alice's daemon was stopped")
  await t.rejects(access(home), 'the temporary directory is gone')
})
