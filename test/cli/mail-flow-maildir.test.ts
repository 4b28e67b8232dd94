// The same mail flow on the embedded backend: the SMTP listener delivering into Maildir
// folders, read back through maildir:// (the fast tier; no servers).
import { maildirBackend } from '../support/mail-backends.js';
import { defineMailFlowSuite } from '../support/mail-flow-scenario.js';

defineMailFlowSuite((root) => maildirBackend(root));
