import { spawn } from 'node:child_process'
import t from 'tap'
import { CLI_ARGS, tempHome } from './helpers/cli.js'

/**
 * Runs `pairctl ...args` on a pseudo-terminal (util-linux `script`), typing `keys` once the prompt is
 * up; resolves with everything the terminal showed and the exit status.
 */
function onTerminal(
  home: string,
  args: string[],
  keys: string[],
): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, ...CLI_ARGS, ...args].map((word) => `'${word}'`).join(' ')
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { ...process.env, PAIRCTL_HOME: home, DEBUG: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let screen = ''
  let typed = false
  child.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString()
    if (!typed && screen.includes('Code from the other device')) {
      typed = true
      void typeSlowly(child.stdin, keys)
    }
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, screen })
    }),
  )
}

async function typeSlowly(stdin: NodeJS.WritableStream, keys: string[]): Promise<void> {
  for (const key of keys) {
    await new Promise((resolve) => setTimeout(resolve, 400))
    stdin.write(key)
  }
}

t.test(
  'join with no code prompts on the terminal: Tab completes a word, Ctrl-C exits 130 cleanly',
  async (t) => {
    const home = await tempHome(t)
    const { code, screen } = await onTerminal(home, ['join', '--host', '127.0.0.1'], ['abil', '\t', '\u0003'])
    t.match(screen, /Code from the other device \(Tab completes words\)/)
    t.match(screen, /ability/, 'Tab completed "abil" to the one word it starts')
    t.equal(code, 130)
    t.match(screen, /interrupted \(Ctrl-C\); nothing was paired/)
    t.notMatch(screen, /Aborted with Ctrl\+C|at .*\.js:\d+/, 'no library message, no stack trace')
  },
)
