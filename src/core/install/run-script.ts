import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { LOG_TAIL_MAX_LINES } from './log-tail.js';

export interface ScriptRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  logTail: string;
}

export interface RunScriptInput {
  script: string;
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  logFile: string;
  onSpawn?: (pid: number) => void;
  /** what runs, for the log: 'install script' (the default) or 'health check' */
  label?: string;
  /** a line written to the log before the script starts */
  banner?: string;
}

const KILL_GRACE_MS = 5000;

export function tailOf(file: string, lines = LOG_TAIL_MAX_LINES): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').filter(Boolean).slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Run the install script in its own process group with a clean environment (only PATH,
 * LANG and the RDS_* variables: no secrets of the agent leak into it), output to a log
 * file, and a timeout after which the whole group gets SIGTERM, then SIGKILL.
 */
export function runInstallScript(input: RunScriptInput): Promise<ScriptRun> {
  // O_NOFOLLOW: a symlink planted at the log's name is refused, never written through
  const log = fs.openSync(
    input.logFile,
    fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW,
    0o600,
  );
  if (input.banner) fs.writeSync(log, `${input.banner}\n`);
  return new Promise<ScriptRun>((resolve) => {
    let timedOut = false;
    const child = spawn('/bin/sh', [input.script], {
      cwd: input.cwd,
      env: input.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        /* already gone */
      }
    };
    if (child.pid) input.onSpawn?.(child.pid);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS).unref();
    }, input.timeoutMs);
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      // a failed or timed-out script is rolled back: nothing it started may live on (a child
      // that ignored SIGTERM would keep writing into the release being removed)
      if (timedOut || exitCode !== 0) killGroup('SIGKILL');
      fs.closeSync(log);
      resolve({ exitCode, signal, timedOut, logTail: tailOf(input.logFile) });
    };
    child.on('error', (error) => {
      fs.writeSync(log, `rds: cannot start ${input.label ?? 'install script'}: ${error.message}\n`);
      finish(127, null);
    });
    child.on('exit', (code, signal) => finish(code, signal));
  });
}
