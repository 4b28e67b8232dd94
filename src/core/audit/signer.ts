/**
 * Checkpoints during a long command (docs/audit.md#checkpoints): the command context
 * registers its store and key here; once `AUDIT_CHECKPOINT_EVERY` entries are unsigned an
 * append asks for a checkpoint, and a loop (`--every`) seals after each pass. The end of
 * every command seals whatever is left (commands/audit-hook.ts).
 */
import type * as openpgp from 'openpgp';
import type { Db } from '../store/db.js';
import { auditHead, lastCheckpointCount, onAuditGrowth, setAuditNode } from './store.js';

const open = new Map<Db, () => Promise<number | undefined>>();

export function registerAuditSigner(db: Db, node: string, key: () => Promise<openpgp.PrivateKey>): void {
  setAuditNode(node);
  let running: Promise<number | undefined> | undefined;
  const seal = () => {
    running ??= (async () => {
      try {
        if (!db.open || auditHead(db).count <= lastCheckpointCount(db)) return undefined;
        const { writeCheckpoint } = await import('./checkpoint.js');
        const signingKey = await key();
        return db.open ? await writeCheckpoint(db, signingKey, node, new Date()) : undefined;
      } catch {
        return undefined; // the end of the command signs; a failure there is reported
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  open.set(db, seal);
  onAuditGrowth(db, () => void seal());
}

/** Sign a checkpoint for every registered store that has unsigned entries (after a pass). */
export async function sealPending(): Promise<void> {
  for (const [db, seal] of open) {
    if (!db.open) open.delete(db);
    else await seal();
  }
}

/** Whether every store registered since resetSealNotes was closed with nothing unsigned (see noteClosing). */
let closedSealed: boolean | undefined;

/** Forget what earlier stores said at close (a new command starts). */
export function resetSealNotes(): void {
  closedSealed = undefined;
}

/**
 * Before a registered store closes: whether it leaves audit entries unsigned, asked with the
 * same queries the end of the command asks (commands/audit-hook.ts). A store that cannot say
 * counts as leaving some.
 */
export function noteClosing(db: Db): void {
  let sealed = false;
  try {
    sealed = auditHead(db).count <= lastCheckpointCount(db);
  } catch {
    sealed = false;
  }
  closedSealed = (closedSealed ?? true) && sealed;
  open.delete(db);
}

/**
 * True when the command's stores were all closed with nothing left to sign and none is open:
 * the end of the command has nothing to seal and need not open the store again.
 */
export function allClosedSealed(): boolean {
  return closedSealed === true && open.size === 0;
}
