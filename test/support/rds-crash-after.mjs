// Test-only entry of the rds binary for the crash tests (docs/install.md#testing-the-crash-path): exactly
// bin/rds.js, plus a kill -9 of this process right after apply-update journaled the step
// named by RDS_FAULT_CRASH_AFTER (preparing, running-script, switching, switched). It lives
// under test/ (not shipped: package.json `files`), and the product never reads that variable.
import { observeJournalSteps } from '../../dist/core/install/journal.js';

const crashAfter = process.env.RDS_FAULT_CRASH_AFTER;
if (crashAfter) {
  observeJournalSteps((step) => {
    if (step === crashAfter) process.kill(process.pid, 'SIGKILL');
  });
}
await import('../../bin/rds.js');
