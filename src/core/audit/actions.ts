/**
 * The commands whose run is an audited action, by their full name: after such a command ran
 * (whatever its exit code), the command runner appends one entry (commands/audit-hook.ts).
 * Plain data, no imports: src/cli.ts reads it without loading anything heavy. Every name
 * is a command of the table (test/unit/ops.test.ts); push-all is the rollout's start.
 */
export const AUDITED_COMMANDS: Readonly<Record<string, string>> = {
  'agents add': 'agents-add',
  'agents remove': 'agents-remove',
  'agents import': 'agents-import',
  'keys rotate': 'keys-rotate',
  'pack-update': 'pack-update',
  'push-all': 'push-all',
  'rollout advance': 'rollout-advance',
  'rollout pause': 'rollout-pause',
  'rollout resume': 'rollout-resume',
  'rollout abort': 'rollout-abort',
  'export-update': 'export-update',
  'request-versions': 'request-versions',
  'request-counters': 'request-counters',
  verify: 'verify',
};

/** Commands after which the runner never touches the store (no config, or their own dirs). */
export const NOT_CHECKPOINTED: ReadonlySet<string> = new Set(['init', 'demo', 'completion', 'audit verify', 'audit export', 'audit list']);
