/**
 * `cx completion bash|zsh`: a completion script drawn from the commands as registered, so it
 * never lists a command or option that is not there. `eval "$(cx completion bash)"` in ~/.bashrc;
 * for zsh, `cx completion zsh > "${fpath[1]}/_cx"`.
 */
import type { Command } from 'commander';
import { CliError } from '../output.js';

interface Entry {
  path: string;
  commands: [string, string][];
  options: [string, string][];
}

/** Each command path ("cx", "cx audit", "cx audit verify") with its subcommands and options. */
function commandTree(program: Command): Entry[] {
  const entries: Entry[] = [];
  const walk = (command: Command, path: string) => {
    const commands = command.commands.filter((c) => c.name() !== 'help').map((c): [string, string] => [c.name(), c.description()]);
    const options = command.options.flatMap((o) => [o.long, o.short].filter((flag): flag is string => !!flag).map((flag): [string, string] => [flag, o.description]));
    entries.push({ path, commands, options: [...options, ['--help', 'show help']] });
    for (const sub of command.commands) if (sub.name() !== 'help') walk(sub, `${path} ${sub.name()}`);
  };
  walk(program, 'cx');
  return entries;
}

/** Single-quoted for bash and zsh alike. */
const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

function bashScript(entries: Entry[]): string {
  const table = (pick: (e: Entry) => string[]) => entries.map((e) => `  [${shellQuote(e.path)}]=${shellQuote(pick(e).join(' '))}`).join('\n');
  return `# bash completion for cx: eval "$(cx completion bash)"
declare -gA _cx_commands=(
${table((e) => e.commands.map(([name]) => name))}
)
declare -gA _cx_options=(
${table((e) => e.options.map(([flag]) => flag))}
)
_cx() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd=cx word i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    [[ $word == -* ]] && continue
    [[ -n \${_cx_commands["$cmd $word"]+set} ]] && cmd="$cmd $word"
  done
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "\${_cx_options[$cmd]}" -- "$cur"))
  elif [[ -n \${_cx_commands[$cmd]} ]]; then
    COMPREPLY=($(compgen -W "\${_cx_commands[$cmd]}" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o default -F _cx cx
`;
}

function zshScript(entries: Entry[]): string {
  const described = (pairs: [string, string][]) => pairs.map(([name, text]) => `${name.replace(/:/g, '\\:')}:${text.replace(/\n/g, ' ')}`).join('\n');
  const table = (pick: (e: Entry) => [string, string][]) => entries.map((e) => `  ${shellQuote(e.path)} ${shellQuote(described(pick(e)))}`).join('\n');
  return `#compdef cx
# zsh completion for cx: cx completion zsh > "\${fpath[1]}/_cx"
typeset -gA _cx_commands _cx_options
_cx_commands=(
${table((e) => e.commands)}
)
_cx_options=(
${table((e) => e.options)}
)
_cx() {
  # not path: in zsh that is $PATH
  local cmd=cx word
  local -a described
  for word in \${words[2,CURRENT-1]}; do
    [[ $word == -* ]] && continue
    (( \${+_cx_commands[$cmd $word]} )) && cmd="$cmd $word"
  done
  if [[ $PREFIX == -* ]]; then
    described=(\${(f)_cx_options[$cmd]})
    _describe -t options option described
  elif [[ -n \${_cx_commands[$cmd]} ]]; then
    described=(\${(f)_cx_commands[$cmd]})
    _describe -t commands command described
  else
    _files
  fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _cx "$@"; else compdef _cx cx; fi
`;
}

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: bash (eval "$(cx completion bash)") or zsh')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      const entries = commandTree(program);
      if (shell === 'bash') process.stdout.write(bashScript(entries));
      else if (shell === 'zsh') process.stdout.write(zshScript(entries));
      else throw new CliError(`no completion for ${shell}: use bash or zsh`);
    });
}
