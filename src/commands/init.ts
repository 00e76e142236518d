import type { Command } from 'commander';
import { CliError, ExitCode } from '../errors.js';
import { flags } from '../cli/flags.js';

interface InitOptions {
  template?: string;
  tenant?: string;
  topic?: string;
  dir?: string;
  yes?: boolean;
  git: boolean;
  listTemplates?: boolean;
  json?: boolean;
  cli?: string;
}

const DEFAULT_TEMPLATE = 'orders-sum';
// Not 'default': that is a Kubernetes namespace of the platform's, which deploy refuses.
const DEFAULT_TENANT = 'my-team';

export function register(program: Command): void {
  program
    .command('init')
    .argument('[name]', 'the app\'s name (lowercase letters, digits, \'-\'); also the folder\'s name')
    .description('create a connector: app.py, aerogrid.yaml, offline tests, README and CI, in a new git repo')
    .option('-t, --template <template>', `the template to start from (default with --yes: ${DEFAULT_TEMPLATE})`)
    .addOption(flags.tenant(`the team that owns the app (default with --yes: ${DEFAULT_TENANT})`))
    .option('--topic <topic>', 'the Kafka topic the app reads (default with --yes: the template\'s)')
    .option('--dir <path>', 'create the connector in this folder instead of ./<name>')
    .option('-y, --yes', 'never ask: take the defaults for anything not given')
    .option('--no-git', 'do not make a git repo and first commit')
    .option('--cli <spec>', 'the npm package spec the generated pipelines install the CLI from (default: aerogrid@<this version>; a tarball URL or path for a private install)')
    .option('--list-templates', 'list the templates and exit')
    .addOption(flags.json())
    .addHelpText('after', `
On a terminal, init asks for whatever the flags leave out. Without a terminal (a script, CI),
it never asks: give every value as a flag, or --yes for the defaults; a missing one is named.
The folder must not exist or be empty; on any error nothing is created.

Templates: orders-sum (the seed example), passthrough, top-n, blank; see --list-templates.

Examples:
  $ aerogrid init                                          ask for everything
  $ aerogrid init ordersapp --template orders-sum --tenant sales --topic orders
  $ aerogrid init prices --template passthrough --tenant trading --topic prices.eod --yes
  $ aerogrid init --list-templates`)
    .action(async (nameArg: string | undefined, opts: InitOptions) => {
      const { listTemplates } = await import('../connector/templates.js');
      const { printJson, info, colors, interactive } = await import('../output.js');
      const templates = listTemplates();

      if (opts.listTemplates) {
        if (opts.json) printJson(templates.map(({ name, title, description, topic }) => ({ name, title, description, topic })));
        else {
          const width = Math.max(...templates.map((t) => t.name.length));
          for (const t of templates) process.stdout.write(`${t.name.padEnd(width)}  ${t.description} (topic: ${t.topic})\n`);
        }
        return;
      }

      const canAsk = !opts.yes && interactive() && Boolean(process.stdin.isTTY);
      let name = nameArg;
      let template = opts.template;
      let tenant = opts.tenant;
      let topic = opts.topic;

      if (!canAsk) {
        const missing: string[] = [];
        if (!name) missing.push('the app name (aerogrid init <name>)');
        if (!opts.yes) {
          if (!template) missing.push('--template');
          if (!tenant) missing.push('--tenant');
          if (!topic) missing.push('--topic');
        }
        if (missing.length > 0) {
          const why = opts.yes ? '' : process.env.CI ? ' (CI is set, so nothing is asked)' : ' (no terminal to ask on)';
          throw new CliError(`Missing ${joinList(missing)}${why}; nothing was created.`, {
            exitCode: ExitCode.usage,
            hint: `aerogrid init ${name ?? '<name>'} --template ${template ?? DEFAULT_TEMPLATE} --tenant ${tenant ?? '<team>'} --topic ${topic ?? '<topic>'}, or add --yes to take the defaults (template ${DEFAULT_TEMPLATE}, tenant ${DEFAULT_TENANT}, the template's topic)`,
          });
        }
        template ??= DEFAULT_TEMPLATE;
        tenant ??= DEFAULT_TENANT;
      } else {
        ({ name, template, tenant, topic } = await ask({ name, template, tenant, topic }, templates));
      }

      const { findTemplate, scaffold } = await import('../connector/scaffold.js');
      topic ??= findTemplate(template!).topic;

      const { join, resolve } = await import('node:path');
      const { readFileSync } = await import('node:fs');
      const { packageRoot } = await import('../paths.js');
      const { version } = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
      const dir = resolve(opts.dir ?? name!);
      const result = await scaffold({ name: name!, tenant: tenant!, topic, template: template!, dir, git: opts.git, cliVersion: version, ...(opts.cli ? { cliPackage: opts.cli } : {}) });

      if (opts.json) {
        printJson({ ...result, name, tenant, topic });
        return;
      }
      const c = colors();
      const { displayFile } = await import('../app-spec/display.js');
      const shown = displayFile(result.dir);
      const repo = result.commit ? `, a git repo on ${result.branch} with its first commit ${result.commit.slice(0, 7)}` : '';
      info(`${c.green('✔')} Created ${c.bold(shown)} from the ${result.template} template (app ${name}, tenant ${tenant}, topic ${topic}${repo}):`);
      for (const f of result.files) info(`    ${f}`);
      if (result.standInAuthor) info(c.yellow(`  git has no user.name/user.email here, so the first commit's author is 'aerogrid init'. Set yours with \`git config --global user.email you@example.com\`.`));
      info(`\nNext:\n  cd ${shown}\n  aerogrid validate && aerogrid test     check it, offline\n  aerogrid dev                           run it on the local Kafka, with a live viewer\n  git push                               CI validates, tests, and deploys from main (see README.md)`);
    });
}

function joinList(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

async function ask(
  given: { name?: string; template?: string; tenant?: string; topic?: string },
  templates: Array<{ name: string; description: string; topic: string }>,
): Promise<{ name: string; template: string; tenant: string; topic: string }> {
  const { input, select } = await import('@inquirer/prompts');
  const { deployedTenantProblem, dns1123Problem, topicProblem } = await import('@aerogrid/protocol/names');
  const context = { output: process.stderr, clearPromptOnDone: false };
  const nameCheck = (what: string, problemOf: (value: string) => ReturnType<typeof dns1123Problem>) => (value: string) => {
    const p = problemOf(value.trim());
    return p ? `The ${what} ${p.reason}${p.suggestion ? ` (try '${p.suggestion}')` : ''}.` : true;
  };
  try {
    const name = given.name ?? (await input({ message: 'App name', validate: nameCheck('name', dns1123Problem) }, context)).trim();
    const template = given.template ?? await select({
      message: 'Template',
      choices: templates.map((t) => ({ name: `${t.name.padEnd(12)} ${t.description}`, value: t.name, short: t.name })),
      default: DEFAULT_TEMPLATE,
    }, context);
    const tenant = given.tenant ?? (await input({ message: 'Tenant (the team that owns it)', default: DEFAULT_TENANT, validate: nameCheck('tenant', deployedTenantProblem) }, context)).trim();
    const defaultTopic = templates.find((t) => t.name === template)?.topic ?? 'events';
    const topic = given.topic ?? (await input({
      message: 'Kafka topic to read',
      default: defaultTopic,
      validate: (value: string) => {
        const p = topicProblem(value.trim());
        return p ? `The topic ${p.reason}.` : true;
      },
    }, context)).trim();
    return { name, template, tenant, topic };
  } catch (error) {
    if ((error as Error).name === 'ExitPromptError' || (error as Error).name === 'AbortPromptError') {
      throw new CliError('Cancelled; nothing was created.', { exitCode: ExitCode.interrupted });
    }
    throw error;
  }
}
