/** `rds report`: the fleet as one self-contained HTML page (host). */
import { defineCommand } from './define.js';

export const report = defineCommand({
  name: 'report',
  description:
    'host: write the fleet report, one self-contained HTML file (fleet table, rollout, silent agents, faults, supplies, page counts)',
  flags: [
    { flags: '--html <file>', description: 'the file to write (default fleet-report-YYYY-MM-DD.html in the current folder)' },
    { flags: '--rollout <id>', description: 'the rollout the fleet table is verified against (default the latest)' },
    { flags: '--since <time>', description: 'rollout history and page counts from TIME on (ISO 8601 or a date)' },
    { flags: '--silent-after <duration>', description: 'list agents not heard from for longer than this', default: '2d' },
  ],
  help: '\nNo network requests, scripts, fonts or images from elsewhere: it opens from a mail attachment or a USB stick,\nprints well, and reads without JavaScript. A regular file of that name is replaced; written with mode 0600.\nSee docs/report.md.\n\nExamples:\n  rds report\n  rds report --html /srv/share/fleet.html --since 2026-06-01 --silent-after 1d',
});
