/**
 * `rds demo` (docs/commands.md#shared-commands): the whole story on embedded defaults,
 * needing nothing but Node. An SMTP listener on loopback delivers into Maildir folders; a
 * host and a fleet of agents, each watching simulated printers, run the real command code
 * in-process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT, UsageError } from '../core/errors.js';
import { stepRecorder } from './demo-steps.js';
import type { OptionsOf } from './specs/define.js';
import type { demo } from './specs/shared.js';
import type { CommandResult, GlobalOptions } from './types.js';

const CUSTOMERS = [
  'aaa Trading',
  'bbb Electric',
  'ccc Clinic',
  'ddd Logistics',
  'eee Law Office',
  'fff Foods',
  'ggg Design',
  'hhh Hotel',
  'iii School',
  'jjj Motors',
  'kkk Pharmacy',
  'lll Architects',
  "mmm City Hall (Residents' Section)",
  'nnn Bank, Main Branch',
  'ooo Printing',
  'ppp Insurance',
  'qqq Library',
];

export type DemoOptions = OptionsOf<typeof demo>;

export async function run(options: DemoOptions, globals: GlobalOptions): Promise<CommandResult> {
  const count = Number(options.agents ?? 17);
  if (!Number.isInteger(count) || count < 3 || count > 500)
    throw new UsageError('BAD_OPTION', `--agents ${options.agents}: give a whole number from 3 to 500`);
  const root = options.keep ? path.resolve(options.keep) : fs.mkdtempSync(path.join(os.tmpdir(), 'rds-demo-'));
  if (options.keep) {
    if (fs.existsSync(root) && fs.readdirSync(root).length > 0)
      throw new UsageError('DEMO_DIR_NOT_EMPTY', `--keep ${root}: the folder must be empty or new`);
    fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  }
  const { steps, say } = stepRecorder(!globals.json && !globals.quiet);
  const { startMailListener } = await import('../core/mail/index.js');
  const mailRoot = path.join(root, 'mail');
  fs.mkdirSync(mailRoot, { recursive: true, mode: 0o700 });
  const listener = await startMailListener({ root: mailRoot });
  const started = Date.now();
  try {
    const { runStory } = await import('./demo/story.js');
    // the report outlives the demo: in the --keep folder, else in the current folder
    const reportFile = options.keep ? path.join(root, 'fleet-report.html') : path.resolve('rds-demo-report.html');
    const outcome = await runStory({ root, mailRoot, smtpPort: listener.port, count, customers: CUSTOMERS, say, globals, reportFile });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const end = say('The end');
    end(
      outcome.asDesigned
        ? `The story ran as designed in ${seconds} s: exactly the two expected agents failed.`
        : `Unexpected: ${outcome.problem}`,
    );
    end(
      options.keep
        ? `Configs, mailboxes and databases are kept in ${root}; replay a read-only step there, e.g. cd ${root} && rds --config HOST/config.json agents list`
        : 'Run with --keep DIR to look at the configs, mailboxes and databases afterwards.',
    );
    end(`The fleet report: ${reportFile} (open it in a browser)`);
    return {
      exitCode: outcome.asDesigned ? EXIT.OK : EXIT.FAILED,
      data: {
        asDesigned: outcome.asDesigned,
        seconds: Number(seconds),
        dir: options.keep ? root : null,
        steps,
        verify: outcome.verify,
        tables: outcome.tables,
        report: reportFile,
      },
      text: '',
    };
  } finally {
    await listener.close();
    if (!options.keep) fs.rmSync(root, { recursive: true, force: true });
  }
}
