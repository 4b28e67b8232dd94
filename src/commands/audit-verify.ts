import type * as openpgp from 'openpgp';
import { EXIT, REFUSAL, SecurityError, UsageError } from '../core/errors.js';
import { nodePublicKeys } from './audit-store.js';
import { openContext } from './context.js';
import type { auditVerify } from './specs/audit.js';
import type { OptionsOf } from './specs/define.js';
import type { CommandResult, GlobalOptions } from './types.js';

async function readKeys(files: readonly string[]): Promise<openpgp.PublicKey[]> {
  const { readPublicKeyFile } = await import('../core/crypto/keys.js');
  return Promise.all(files.map((f) => readPublicKeyFile(f)));
}

/** `rds audit verify [--file F --key K]`: exit 0 clean, 4 naming the first bad entry. */
export async function run(options: OptionsOf<typeof auditVerify>, globals: GlobalOptions): Promise<CommandResult> {
  const { verifyAudit } = await import('../core/audit/verify.js');
  let verdict: Awaited<ReturnType<typeof verifyAudit>>;
  let where: string;
  if (options.file) {
    if (options.key.length === 0)
      throw new UsageError('KEY_REQUIRED', '--file needs --key: the public key of the node that wrote the export');
    const keys = await readKeys(options.key);
    const { readExport } = await import('../core/audit/export.js');
    const file = await readExport(options.file);
    where = options.file;
    verdict = await verifyAudit(file.rows, file.checkpoints, keys);
  } else {
    const ctx = await openContext(globals, 'audit verify');
    try {
      const keys = options.key.length > 0 ? await readKeys(options.key) : await nodePublicKeys(ctx.config);
      const { auditRows, checkpointRows } = await import('../core/audit/store.js');
      where = 'audit log';
      verdict = await verifyAudit(auditRows(ctx.db), checkpointRows(ctx.db), keys);
    } finally {
      ctx.close();
    }
  }
  if (verdict.problem)
    throw new SecurityError(REFUSAL.AUDIT_TAMPERED, `${where}: entry ${verdict.problem.entry}: ${verdict.problem.reason}`);
  const unsealed = verdict.unsealed > 0 ? `; ${verdict.unsealed} after the last checkpoint (signed at the end of the next command)` : '';
  return {
    exitCode: EXIT.OK,
    data: { ok: true, entries: verdict.entries, checkpoints: verdict.checkpoints, unsealed: verdict.unsealed, head: verdict.head },
    text: `${where}: ${verdict.entries} entries chain, ${verdict.checkpoints} checkpoints signed by the node key, head ${verdict.head}${unsealed}`,
  };
}
