// The operations kit stays true to the CLI: sample configs validate through the real
// schema, and every unit and cron line calls a command that exists.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDITED_COMMANDS, NOT_CHECKPOINTED } from '../../src/core/audit/actions.js';
import { loadConfig } from '../../src/core/config/config.js';
import { serviceSettings } from '../../src/core/service/settings.js';
import { buildProgram } from '../../src/program.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

function commandPaths(): Set<string> {
  const out = new Set<string>();
  const walk = (cmd: ReturnType<typeof buildProgram>, prefix: string[]) => {
    for (const c of cmd.commands) {
      out.add([...prefix, c.name()].join(' '));
      walk(c as ReturnType<typeof buildProgram>, [...prefix, c.name()]);
    }
  };
  walk(buildProgram({}), []);
  return out;
}

describe('operations kit', () => {
  it.each(['agent', 'host'])('ops/config/%s.sample.json validates through the config schema', async (role) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-ops-'));
    const file = path.join(dir, 'config.json');
    fs.copyFileSync(path.join(ROOT, 'ops/config', `${role}.sample.json`), file);
    const config = await loadConfig(file);
    expect(config.role).toBe(role);
    // the host's service block passes its own checks (docs/service.md)
    if (role === 'host') expect(serviceSettings(config as { service?: unknown }).routes).toHaveLength(2);
  });

  it('every systemd unit and cron line runs an existing command', () => {
    const commands = commandPaths();
    const used: string[] = [];
    for (const f of fs.readdirSync(path.join(ROOT, 'ops/systemd')).filter((n) => n.endsWith('.service'))) {
      const exec = /^ExecStart=\/usr\/bin\/env rds (.+)$/m.exec(fs.readFileSync(path.join(ROOT, 'ops/systemd', f), 'utf8'));
      expect(exec, f).not.toBeNull();
      used.push(String(exec?.[1] ?? '').split(' --')[0] as string);
      const timer = path.join(ROOT, 'ops/systemd', f.replace('.service', '.timer'));
      expect(fs.existsSync(timer), `${f} has a timer`).toBe(true);
    }
    for (const f of fs.readdirSync(path.join(ROOT, 'ops/cron'))) {
      for (const line of fs.readFileSync(path.join(ROOT, 'ops/cron', f), 'utf8').split('\n')) {
        const m = /\brds\s+rds\s+([a-z-]+)/.exec(line);
        if (m) used.push(m[1] as string);
      }
    }
    expect(used.length).toBeGreaterThanOrEqual(7);
    for (const c of used) expect(commands.has(c), c).toBe(true);
  });

  it('every audited command (docs/audit.md) is a command of the table', () => {
    const commands = commandPaths();
    expect([...Object.keys(AUDITED_COMMANDS), ...NOT_CHECKPOINTED].filter((name) => !commands.has(name))).toEqual([]);
  });
});
