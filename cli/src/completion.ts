/**
 * `fn completion bash|zsh`: a completion script built from the command table, so a new command or
 * option completes without anyone editing a script. Install: `source <(fn completion bash)` in
 * ~/.bashrc, or `fn completion zsh > "${fpath[1]}/_fn"`.
 */
import type { CommandSpec } from './command-table.js';

export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

/** '-X, --method M' → ['-X', '--method']; every command also takes --help. */
function flagsOf(spec: CommandSpec): string[] {
  const flags = spec.options.flatMap(([f]) => f.match(/(?<![\w-])--?[A-Za-z][\w-]*/g) ?? []);
  return [...new Set([...flags, '--help'])];
}

/** A shell word list: only [A-Za-z0-9_-] appear in command, action and flag names. */
const words = (list: string[]) => list.join(' ');

export function completionScript(shell: Shell, commands: CommandSpec[], extra: string[]): string {
  const names = [...commands.map((c) => c.name), ...extra];
  if (shell === 'bash') {
    const cases = commands.map((c) => `    ${c.name}) opts="${words(flagsOf(c))}"; actions="${words(c.actions ?? [])}" ;;`).join('\n');
    return `# bash completion for fn — add to ~/.bashrc:  source <(fn completion bash)
_fn_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" opts="" actions=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${words(names)} --help --version" -- "$cur") )
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
    help) COMPREPLY=( $(compgen -W "${words(names)}" -- "$cur") ); return ;;
    completion) COMPREPLY=( $(compgen -W "${words([...SHELLS])}" -- "$cur") ); return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  elif [ "$COMP_CWORD" -eq 2 ] && [ -n "$actions" ]; then
    COMPREPLY=( $(compgen -W "$actions" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -o filenames -F _fn_complete fn
`;
  }
  const cases = commands.map((c) => `    ${c.name}) opts=(${words(flagsOf(c))}); actions=(${words(c.actions ?? [])}) ;;`).join('\n');
  return `#compdef fn
# zsh completion for fn — save as _fn in a directory of $fpath:  fn completion zsh > "\${fpath[1]}/_fn"
# (or, for this shell only:  source <(fn completion zsh))
_fn() {
  local -a opts actions
  if (( CURRENT == 2 )); then
    compadd -- ${words(names)} --help --version
    return
  fi
  case "$words[2]" in
${cases}
    help) compadd -- ${words(names)}; return ;;
    completion) compadd -- ${words([...SHELLS])}; return ;;
  esac
  if [[ "$PREFIX" == -* ]]; then
    compadd -- $opts
  elif (( CURRENT == 3 && \${#actions} > 0 )); then
    compadd -- $actions
  else
    _files
  fi
}
if [[ "\${funcstack[1]}" == _fn ]]; then _fn "$@"; else compdef _fn fn; fi
`;
}
