import { showText } from '../core/text/show.js';
import type { GlobalOptions } from './types.js';

export interface Progress {
  update(text: string): void;
  stop(): void;
}

/**
 * A spinner on a TTY only (ora, loaded on demand); nothing otherwise
 * (docs/commands.md#output-logs-colour).
 */
export function progress(globals: GlobalOptions, title: string): Progress {
  // NO_COLOR (no-color.org) is about colour only: the spinner stays, uncoloured
  if (!process.stderr.isTTY || globals.json || globals.quiet || process.env.CI) {
    return { update: () => {}, stop: () => {} };
  }
  let spinner: { text: string; stop(): void } | undefined;
  let latest = title;
  let stopped = false;
  void import('ora').then(({ default: ora }) => {
    if (stopped) return;
    spinner = ora({ text: latest, stream: process.stderr, ...(process.env.NO_COLOR ? { color: false as const } : {}) }).start();
  });
  return {
    update: (text) => {
      latest = showText(`${title}: ${text}`);
      if (spinner) spinner.text = latest;
    },
    stop: () => {
      stopped = true;
      spinner?.stop();
    },
  };
}
