import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import type { OptionsOf } from './specs/define.js';
import type { completion } from './specs/shared.js';
import type { CommandResult, GlobalOptions } from './types.js';

interface Node {
  path: string;
  options: string[];
  children: string[];
}

function walk(cmd: Command, prefix: string[], out: Node[]): void {
  const children = cmd.commands.map((c) => c.name()).filter((n) => n !== 'help');
  out.push({ path: prefix.join(' '), options: cmd.options.map((o) => o.long ?? o.short ?? '').filter(Boolean), children });
  for (const child of cmd.commands) walk(child, [...prefix, child.name()], out);
}

function bash(nodes: Node[], globals: string[]): string {
  const cases = nodes.map((n) => `    "${n.path}") words="${[...n.children, ...n.options, ...globals].join(' ')}" ;;`).join('\n');
  return `# bash completion for rds: eval "$(rds completion bash)", or save to /etc/bash_completion.d/rds
_rds() {
  local cur path="" w words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) case " $(_rds_children "$path") " in *" $w "*) path="\${path:+$path }$w" ;; esac ;; esac
  done
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
_rds_children() {
  case "$1" in
${nodes.map((n) => `    "${n.path}") echo "${n.children.join(' ')}" ;;`).join('\n')}
  esac
}
complete -o default -F _rds rds
`;
}

function zsh(nodes: Node[], globals: string[]): string {
  return `#compdef rds
# zsh completion for rds: rds completion zsh > "\${fpath[1]}/_rds"
_rds() {
  local path="" w
  for w in \${words[2,CURRENT-1]}; do
    case "$w" in -*) ;; *) path="\${path:+$path }$w" ;; esac
  done
  case "$path" in
${nodes.map((n) => `    "${n.path}") compadd -- ${[...n.children, ...n.options, ...globals].join(' ')} ;;`).join('\n')}
  esac
}
compdef _rds rds
`;
}

export async function run(options: OptionsOf<typeof completion>, _globals: GlobalOptions): Promise<CommandResult> {
  const shell = options.args[0];
  const { buildProgram } = await import('../program.js');
  const program = buildProgram({});
  const nodes: Node[] = [];
  walk(program, [], nodes);
  const globals = ['--config', '--json', '--quiet', '--verbose', '--help'];
  if (shell === 'bash') return { text: bash(nodes, globals) };
  if (shell === 'zsh') return { text: zsh(nodes, globals) };
  throw new UsageError('BAD_SHELL', `completion: '${shell}' is not supported (bash or zsh)`);
}
