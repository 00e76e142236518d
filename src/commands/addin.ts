import type { Command } from 'commander';
import { flags } from '../cli/flags.js';
import { info } from '../output.js';

interface AddinFlags { port: number; platform: string; trust: boolean; dist?: string }

export function register(program: Command): void {
  program
    .command('addin')
    .description('serve the Excel add-in on https://localhost with a trusted development certificate, and print its manifest to sideload')
    .addOption(flags.port('the add-in (https://localhost:<port>; the manifest follows it)').default(3000))
    .option('--platform <url>', 'the platform URL the task pane starts with: `aerogrid dev` or `aerogrid serve --run local`', 'http://127.0.0.1:7070/')
    .option('--dist <folder>', 'the built add-in to serve (default: addin/dist of this aerogrid, built by `npm run setup`)')
    .option('--no-trust', 'do not add the development CA to the system\'s trust store (print how to instead)')
    .addHelpText('after', `
Excel loads add-ins over HTTPS only. This serves the built add-in (addin/dist) on
https://localhost:<port> with the development certificate Office add-in projects use (Microsoft's
office-addin-dev-certs: a CA in ~/.office-addin-dev-certs, added to the system's trust store,
which may ask for your password), writes the manifest for that address, and prints it: sideload it
(README, "Excel"). The pane starts with --platform, the default port of \`aerogrid dev\` and
\`aerogrid serve\`, so with either running beside it the apps show at once. The add-in is on
localhost, which a platform with auth off lets read.

Examples:
  $ aerogrid dev ./ordersapp & aerogrid addin         the pane lists ordersapp on the first try
  $ aerogrid serve --run local --port 7080 & aerogrid addin --platform http://127.0.0.1:7080/
  $ aerogrid addin --port 3443 --no-trust`)
    .action(async (opts: AddinFlags) => {
      const { devCertificate } = await import('../addin-host/certs.js');
      const { hostAddin } = await import('../addin-host/serve.js');
      const { runUntilInterrupted } = await import('../runner/interrupt.js');
      const certificate = await devCertificate({ trust: opts.trust });
      const { resolve } = await import('node:path');
      const hosted = await hostAddin({ port: opts.port, platform: new URL(opts.platform).href, certificate, ...(opts.dist ? { dist: resolve(opts.dist) } : {}) });
      info(`\n  Add-in:   ${hosted.url}  (certificate: ${certificate.trusted ? 'trusted development CA' : `development CA ${certificate.caPath}, not trusted yet`})`);
      info(`  Manifest: ${hosted.manifestFile}  sideload this in Excel`);
      info(`  Platform: ${new URL(opts.platform).href}  (the pane starts with it: run \`aerogrid dev\` or \`aerogrid serve --run local\`)`);
      if (!certificate.trusted) {
        info(`\n  note: ${certificate.trustProblem ? `the CA could not be added to the trust store (${certificate.trustProblem})` : 'the CA was not added to the trust store (--no-trust)'};`);
        info(`  fix: trust ${certificate.caPath} yourself (e.g. \`npx office-addin-dev-certs install\` as an administrator), or Excel refuses the add-in.`);
      }
      info('\n  Ctrl-C to stop.\n');
      let stopped!: () => void;
      const done = new Promise<void>((resolve) => { stopped = resolve; });
      await runUntilInterrupted({ stop: async () => { await hosted.close(); stopped(); }, done });
    });
}
