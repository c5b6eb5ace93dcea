import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { tempHome } from './helpers/cli.js'
import { runInProcess as runCli } from './helpers/in-process.js'

t.test('help: every command has examples and shows defaults, no "[default: []]"', async (t) => {
  const home = await tempHome(t)
  const commands = [
    ['id'],
    ['generate'],
    ['join'],
    ['start'],
    ['stop'],
    ['status'],
    ['devices'],
    ['unpair'],
    ['send'],
    ['listen'],
    ['config'],
    ['config', 'set'],
    ['bootstrap'],
    ['completion'],
  ]
  for (const command of commands) {
    const help = await runCli(home, [...command, '--help'])
    t.equal(help.code, 0, `${command.join(' ')}: ${help.stderr}`)
    t.match(help.stdout, /Examples:/, `${command.join(' ')} has examples`)
    t.notMatch(help.stdout, /\[default: \[\]\]/, command.join(' '))
    t.notMatch(help.stdout, /^\s+echo\s*$/m, 'no example broken onto its own line')
  }
  const generate = await runCli(home, ['generate', '--help'])
  t.match(generate.stdout, /--timeout .*\(default: 300\)/)
  t.match(generate.stdout, /--words .*\(default: 5\)/)
  t.match((await runCli(home, ['join', '--help'])).stdout, /--timeout .*\(default: 30\)/)
})

t.test('the bash completion script completes commands and code words', async (t) => {
  const home = await tempHome(t)
  const script = await runCli(home, ['completion', 'bash'])
  t.equal(script.code, 0)
  const run = (words: string) =>
    promisify(execFile)('bash', [
      '-c',
      `${script.stdout}\nCOMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _pairctl; echo "\${COMPREPLY[@]}"`,
    ])
  t.equal((await run('pairctl gen')).stdout.trim(), 'generate')
  t.equal((await run('pairctl join acid-aban')).stdout.trim(), 'acid-abandon')
  t.match((await run('pairctl join abo')).stdout.trim().split(' '), ['about', 'above'])
  for (const shell of ['zsh', 'fish']) {
    const other = await runCli(home, ['completion', shell])
    t.match(other.stdout, /pairctl/, shell)
    t.match(other.stdout, /abandon/, `${shell} knows the code words`)
  }
})
