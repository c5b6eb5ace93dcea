import { wordlist } from '@scure/bip39/wordlists/english.js'
import type { Argv } from 'yargs'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'

const SHELLS = ['bash', 'zsh', 'fish'] as const
type Shell = (typeof SHELLS)[number]

interface CompletionArgs {
  shell: Shell
}

/** The top-level commands the scripts complete (kept in step with `--help` by a test). */
export const COMPLETED_COMMANDS = [
  'id',
  'generate',
  'join',
  'pair',
  'start',
  'stop',
  'status',
  'devices',
  'unpair',
  'send',
  'listen',
  'config',
  'bootstrap',
  'completion',
]
const GLOBAL_FLAGS = ['--instance', '--json', '--help']

function bash(): string {
  return `# pairctl completion for bash: eval "$(pairctl completion bash)" (e.g. in ~/.bashrc)
_pairctl_words="${wordlist.join(' ')}"
_pairctl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" command="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${COMPLETED_COMMANDS.join(' ')} ${GLOBAL_FLAGS.join(' ')}" -- "$cur"))
  elif [ "$command" = join ] && [[ "$cur" != -* ]]; then
    local last="\${cur##*-}" head=""
    [ "$last" != "$cur" ] && head="\${cur%-*}-"
    COMPREPLY=($(compgen -W "$_pairctl_words" -P "$head" -- "$last"))
  elif [ "$command" = config ] && [ "$COMP_CWORD" -eq 2 ]; then
    COMPREPLY=($(compgen -W "get set unset list" -- "$cur"))
  elif [ "$command" = completion ]; then
    COMPREPLY=($(compgen -W "${SHELLS.join(' ')}" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "${GLOBAL_FLAGS.join(' ')}" -- "$cur"))
  fi
}
complete -o default -F _pairctl pairctl
`
}

function zsh(): string {
  return `#compdef pairctl
# pairctl completion for zsh: eval "$(pairctl completion zsh)" (e.g. in ~/.zshrc, after compinit)
_pairctl_codewords=(${wordlist.join(' ')})
_pairctl() {
  if (( CURRENT == 2 )); then
    compadd -- ${COMPLETED_COMMANDS.join(' ')}
  elif [[ \${words[2]} == join ]]; then
    compadd -a _pairctl_codewords
  elif [[ \${words[2]} == config ]] && (( CURRENT == 3 )); then
    compadd -- get set unset list
  elif [[ \${words[2]} == completion ]]; then
    compadd -- ${SHELLS.join(' ')}
  else
    compadd -- ${GLOBAL_FLAGS.join(' ')}
  fi
}
compdef _pairctl pairctl
`
}

function fish(): string {
  const commands = COMPLETED_COMMANDS.join(' ')
  return `# pairctl completion for fish: pairctl completion fish | source (e.g. in ~/.config/fish/config.fish)
complete -c pairctl -f
complete -c pairctl -n "not __fish_seen_subcommand_from ${commands}" -a "${commands}"
complete -c pairctl -n "__fish_seen_subcommand_from join" -a "${wordlist.join(' ')}"
complete -c pairctl -n "__fish_seen_subcommand_from config" -a "get set unset list"
complete -c pairctl -n "__fish_seen_subcommand_from completion" -a "${SHELLS.join(' ')}"
complete -c pairctl -l instance -r -d "Instance name"
complete -c pairctl -l json -d "One JSON object per line"
`
}

const SCRIPTS: Record<Shell, () => string> = { bash, zsh, fish }

/** `pairctl completion bash|zsh|fish`: a completion script (commands, flags, code words for `join`). */
export const completionCommand: Command<CompletionArgs> = {
  command: 'completion <shell>',
  describe: 'Print a shell completion script (commands, and the code words after "join")',
  builder: (yargs: Argv) =>
    yargs
      .positional('shell', { type: 'string', choices: SHELLS, demandOption: true, describe: 'Your shell' })
      .example('eval "$($0 completion bash)"', 'in ~/.bashrc: Tab completes commands and code words')
      .example('$0 completion fish | source', 'in ~/.config/fish/config.fish'),
  async run(args) {
    process.stdout.write(SCRIPTS[args.shell]())
    return ExitCode.OK
  },
}
