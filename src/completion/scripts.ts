// Shell completion scripts for bash, zsh and fish, generated from the commander program itself,
// so every command and option (now and later) completes without upkeep.
import type { Command, Option } from 'commander';

interface OptionModel { long?: string; short?: string; description: string; takesValue: boolean; values: ValueKind }
type ValueKind = { kind: 'none' } | { kind: 'dirs' } | { kind: 'words'; words: string[] } | { kind: 'dynamic'; source: CompletionSource };

/** Words asked of `aerogrid __complete <source>` at completion time (they live in the GitOps repo). */
export type CompletionSource = 'apps' | 'tenants' | 'templates';
interface CommandModel {
  /** '' for the root, else '/kafka/up'. */
  path: string;
  name: string;
  description: string;
  subcommands: CommandModel[];
  options: OptionModel[];
  /** What the positional arguments complete to. */
  args: ValueKind;
}

export interface CompletionContext {
  /** Values for options that take a known set of words (e.g. --template). */
  optionWords: Record<string, string[]>;
  /** Options whose values come from `__complete` (e.g. --tenant: the repo's tenants). */
  optionSources?: Record<string, CompletionSource>;
  /** Positional arguments, by name, whose values come from `__complete` (e.g. app). */
  argumentSources?: Record<string, CompletionSource>;
}

function optionValues(opt: Option, ctx: CompletionContext): ValueKind {
  const long = opt.long ?? '';
  if (opt.argChoices?.length) return { kind: 'words', words: opt.argChoices };
  if (ctx.optionWords[long]) return { kind: 'words', words: ctx.optionWords[long]! };
  if (ctx.optionSources?.[long]) return { kind: 'dynamic', source: ctx.optionSources[long]! };
  if (/--(dir|path|out|output)$/.test(long)) return { kind: 'dirs' };
  return { kind: 'none' };
}

function model(cmd: Command, ctx: CompletionContext, parentPath = ''): CommandModel {
  const path = parentPath === '' && !cmd.parent ? '' : `${parentPath}/${cmd.name()}`;
  const options: OptionModel[] = cmd.options.filter((o) => !o.hidden).map((o) => ({
    ...(o.long ? { long: o.long } : {}),
    ...(o.short ? { short: o.short } : {}),
    description: o.description,
    takesValue: o.required || o.optional,
    values: optionValues(o, ctx),
  }));
  options.push({ long: '--help', short: '-h', description: 'show help', takesValue: false, values: { kind: 'none' } });
  let args: ValueKind = { kind: 'none' };
  for (const a of cmd.registeredArguments) {
    if (a.argChoices?.length) { args = { kind: 'words', words: a.argChoices }; break; }
    if (ctx.argumentSources?.[a.name()]) { args = { kind: 'dynamic', source: ctx.argumentSources[a.name()]! }; break; }
    if (/dir|path|folder/.test(a.name())) { args = { kind: 'dirs' }; break; }
  }
  return {
    path,
    name: cmd.name(),
    description: cmd.description().split('\n')[0] ?? '',
    subcommands: cmd.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden && c.name() !== 'help').map((c) => model(c, ctx, path)),
    options,
    args,
  };
}

function flatten(m: CommandModel): CommandModel[] {
  return [m, ...m.subcommands.flatMap(flatten)];
}

const shellWord = (s: string) => s.replace(/[^A-Za-z0-9._/-]/g, '');

export function bashScript(program: Command, ctx: CompletionContext): string {
  const root = model(program, ctx);
  const all = flatten(root);
  const name = shellWord(program.name());
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}_completion`;
  const pathCases = all.filter((m) => m.path).map((m) => `"${m.path}"`).join('|');
  const valueCases: string[] = [];
  for (const m of all) {
    for (const o of m.options.filter((x) => x.takesValue)) {
      const flags = [o.long, o.short].filter(Boolean).map((f) => `"${m.path}:${f}"`).join('|');
      const action = o.values.kind === 'words' ? `COMPREPLY=($(compgen -W "${o.values.words.map(shellWord).join(' ')}" -- "$cur"))`
        : o.values.kind === 'dirs' ? 'COMPREPLY=($(compgen -d -- "$cur"))'
          : o.values.kind === 'dynamic' ? `COMPREPLY=($(compgen -W "$(${name} __complete ${o.values.source} \${gitops:+--gitops "$gitops"} 2>/dev/null)" -- "$cur"))` : ':';
      valueCases.push(`      ${flags}) ${action}; return 0 ;;`);
    }
  }
  const wordCases = all.map((m) => {
    const opts = m.options.flatMap((o) => [o.long, o.short].filter(Boolean) as string[]).join(' ');
    const words = [...m.subcommands.map((s) => s.name), ...(m.args.kind === 'words' ? m.args.words : [])].map(shellWord).join(' ');
    return `      "${m.path}") opts="${opts}"; words="${words}"; dirs=${m.args.kind === 'dirs' ? 1 : 0}; source="${m.args.kind === 'dynamic' ? m.args.source : ''}" ;;`;
  });
  return `# ${name} completion for bash. Load it in ~/.bashrc with:
#   source <(${name} completion bash)
${fn}() {
  local cur prev path w i opts words dirs source gitops
  # zsh (through bashcompinit) counts arrays from 0 only with ksharrays.
  if [[ -n "\${ZSH_VERSION-}" ]]; then setopt localoptions ksharrays; fi
  COMPREPLY=()
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  path=""; gitops=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    # The repo the line names is the one to list apps and tenants from.
    if [[ "$w" == --gitops && $((i + 1)) -lt $COMP_CWORD ]]; then gitops="\${COMP_WORDS[i+1]}"; fi
    case "$w" in -*) continue ;; esac
    case "$path/$w" in
      ${pathCases || '"/"'}) path="$path/$w" ;;
    esac
  done
  case "$path:$prev" in
${valueCases.join('\n')}
  esac
  opts=""; words=""; dirs=0; source=""
  case "$path" in
${wordCases.join('\n')}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    if [[ $dirs == 1 ]]; then COMPREPLY+=($(compgen -d -- "$cur")); fi
    if [[ -n $source ]]; then COMPREPLY+=($(compgen -W "$(${name} __complete "$source" \${gitops:+--gitops "$gitops"} 2>/dev/null)" -- "$cur")); fi
  fi
  return 0
}
complete -F ${fn} ${name}
`;
}

export function zshScript(program: Command, ctx: CompletionContext): string {
  const name = shellWord(program.name());
  return `#compdef ${name}
# ${name} completion for zsh. Load it in ~/.zshrc (after compinit) with:
#   source <(${name} completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashScript(program, ctx).split('\n').filter((l) => !l.startsWith('#')).join('\n')}`;
}

export function fishScript(program: Command, ctx: CompletionContext): string {
  const root = model(program, ctx);
  const name = shellWord(program.name());
  const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines = [
    `# ${name} completion for fish. Load it with:`,
    `#   ${name} completion fish > ~/.config/fish/completions/${name}.fish`,
    `complete -c ${name} -f`,
  ];
  const condition = (m: CommandModel): string => {
    const chain = m.path.split('/').filter(Boolean);
    if (chain.length === 0) return '__fish_use_subcommand';
    return chain.map((c) => `__fish_seen_subcommand_from ${c}`).join('; and ');
  };
  const visit = (m: CommandModel) => {
    const here = condition(m);
    const notDeeper = m.subcommands.length ? `; and not __fish_seen_subcommand_from ${m.subcommands.map((s) => s.name).join(' ')}` : '';
    for (const s of m.subcommands) lines.push(`complete -c ${name} -n ${q(here + (m.path ? notDeeper : ''))} -a ${q(s.name)} -d ${q(s.description)}`);
    for (const o of m.options) {
      const flags = [o.long ? `-l ${o.long.slice(2)}` : '', o.short ? `-s ${o.short.slice(1)}` : ''].filter(Boolean).join(' ');
      const value = !o.takesValue ? ''
        : o.values.kind === 'words' ? ` -x -a ${q(o.values.words.join(' '))}`
          : o.values.kind === 'dirs' ? ' -x -a \'(__fish_complete_directories)\''
            : o.values.kind === 'dynamic' ? ` -x -a ${q(`(${name} __complete ${o.values.source} 2>/dev/null)`)}` : ' -x';
      lines.push(`complete -c ${name} -n ${q(here)} ${flags}${value} -d ${q(o.description)}`);
    }
    if (m.path && m.args.kind === 'words') lines.push(`complete -c ${name} -n ${q(here + notDeeper)} -a ${q(m.args.words.join(' '))}`);
    if (m.path && m.args.kind === 'dynamic') lines.push(`complete -c ${name} -n ${q(here + notDeeper)} -a ${q(`(${name} __complete ${m.args.source} 2>/dev/null)`)}`);
    if (m.path && m.args.kind === 'dirs') lines.push(`complete -c ${name} -n ${q(here + notDeeper)} -a '(__fish_complete_directories)'`);
    m.subcommands.forEach(visit);
  };
  visit(root);
  return lines.join('\n') + '\n';
}
