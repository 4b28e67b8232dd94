// The agent's cron passes are read without commander (src/launch.ts); whatever that parser
// accepts, commander (src/program.ts) must read the same way: the same command, options and
// global options. Every line is parsed by both; `launch` is replaced by a recorder here so
// that commander's action records what it would start instead of running it.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Leaf } from '../../src/commands/specs/define.js';
import type { GlobalOptions } from '../../src/commands/types.js';
import { caseTally } from '../../src/core/testing.js';

const started: { name: string; leaf: Leaf['load']; options: Record<string, unknown>; globals: GlobalOptions }[] = [];
vi.mock('../../src/launch.js', async (importActual) => {
  const actual = await importActual<typeof import('../../src/launch.js')>();
  return {
    ...actual,
    launch: (_state: unknown, name: string, leaf: Leaf['load'], options: Record<string, unknown>, globals: GlobalOptions) => {
      started.push({ name, leaf, options, globals });
    },
  };
});

const { parsePassLine } = await import('../../src/launch.js');
const { buildProgram } = await import('../../src/program.js');

/** What commander starts for this line (undefined: it refused the line, or printed help). */
function commanderReads(argv: string[]) {
  started.length = 0;
  try {
    buildProgram({}).parse(argv);
  } catch {
    return undefined;
  }
  return started[0];
}

const line = (...tokens: string[]) => ['node', 'rds', ...tokens];

beforeEach(() => {
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

describe('the cron passes read without commander', () => {
  it('reads the plain lines cron and systemd run', () => {
    for (const tokens of [
      ['poll-mail'],
      ['--config', '/etc/rds/config.json', 'poll-mail'],
      ['poll-mail', '--config', '/etc/rds/config.json', '--json', '--every', '3m', '--max', '10'],
      ['--quiet', 'watch-faults', '--every=60s'],
      ['collect-counters', '--verbose'],
      ['heartbeat', '--config=/etc/rds'],
      ['poll-mail', '--request-missing-after', '45m'],
    ]) {
      const fast = parsePassLine(line(...tokens));
      expect(fast, tokens.join(' ')).toBeDefined();
      const slow = commanderReads(line(...tokens));
      expect({ name: fast?.name, options: fast?.options, globals: fast?.globals }).toEqual({
        name: slow?.name,
        options: slow?.options,
        globals: slow?.globals,
      });
      expect(fast?.leaf.load).toBe(slow?.leaf); // the same table entry's loader
    }
  });

  it('leaves anything else to commander (help, short flags, unknown flags, positionals, values that look like flags)', () => {
    for (const tokens of [
      [],
      ['--help'],
      ['poll-mail', '--help'],
      ['poll-mail', '-h'],
      ['-v'],
      ['poll-mail', 'extra'],
      ['poll-mail', '--bogus'],
      ['poll-mail', '--every'],
      ['poll-mail', '--every', '--json'],
      ['poll-mail', '--json=1'],
      ['--every', '3m', 'poll-mail'],
      ['poll-mail', '--'],
      ['inbox'],
      ['devices', 'list'],
      ['apply-update', 'x.rdsu'],
    ]) {
      expect(parsePassLine(line(...tokens)), tokens.join(' ')).toBeUndefined();
    }
  });

  it('property: a generated line it reads, commander reads the same way', () => {
    // mostly well-formed lines (a flag with its value as one item), with now and then a junk token
    const value = fc.oneof(
      { arbitrary: fc.constantFrom('3m', '', 'a b', '10', '=', 'c.json'), weight: 5 },
      { arbitrary: fc.constantFrom('-x', '--json'), weight: 1 },
    );
    const globalItem = fc.oneof(
      { arbitrary: fc.constantFrom(['--json'], ['--quiet'], ['--verbose'], ['--config=c.json']), weight: 4 },
      { arbitrary: value.map((v) => ['--config', v]), weight: 4 },
      { arbitrary: fc.constant(['--json=yes']), weight: 1 },
    );
    const FLAGS: Record<string, string[]> = {
      'poll-mail': ['--every', '--max', '--request-missing-after'],
      'watch-faults': ['--every'],
      'collect-counters': ['--every'],
      heartbeat: [],
      versions: ['--aligned'],
    };
    const passItem = (command: string) =>
      fc.oneof(
        { arbitrary: globalItem, weight: 2 },
        { arbitrary: fc.tuple(fc.constantFrom(...(FLAGS[command] ?? []), '--every'), value), weight: 4 },
        { arbitrary: fc.constantFrom(['--every=3m'], ['--max='], ['--every=-1'], ['--worker']), weight: 1 },
      );
    const junk = fc.constantFrom('--bogus', '-h', '--', 'extra', 'inbox', '--every', '--help', 'poll-mail');
    const name = fc.constantFrom('poll-mail', 'poll-mail', 'watch-faults', 'collect-counters', 'heartbeat', 'versions');
    const generated = name
      .chain((command) =>
        fc.tuple(
          fc.array(globalItem, { maxLength: 3 }),
          fc.constant(command),
          fc.array(passItem(command), { maxLength: 4 }),
          fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: fc.tuple(junk, fc.nat()), weight: 1 }),
        ),
      )
      .map(([before, command, after, extra]) => {
        const tokens = [...before.flat(), command, ...after.flat()];
        if (extra) tokens.splice(extra[1] % (tokens.length + 1), 0, extra[0]);
        return tokens;
      });
    const tally = caseTally<'read' | 'left'>();
    const runs = 600;
    fc.assert(
      fc.property(generated, (tokens) => {
        const fast = parsePassLine(line(...tokens));
        if (!fast) {
          tally.count('left');
          return;
        }
        tally.count('read');
        const slow = commanderReads(line(...tokens));
        expect(slow, tokens.join(' ')).toBeDefined();
        expect({ name: fast.name, options: fast.options, globals: fast.globals }).toEqual({
          name: slow?.name,
          options: slow?.options,
          globals: slow?.globals,
        });
      }),
      { numRuns: runs },
    );
    tally.atLeast('read', 0.2, runs);
    tally.atLeast('left', 0.2, runs);
  });
});
