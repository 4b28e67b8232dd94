// The mail flow over REAL Postfix + Dovecot (STARTTLS + AUTH on submission, IMAP STARTTLS,
// certificates verified against the testbed CA).
import { defineMailFlowSuite } from '../support/mail-flow-scenario.js';
import { realMailBackend } from '../support/real-mail-backend.js';

defineMailFlowSuite(() => realMailBackend());
