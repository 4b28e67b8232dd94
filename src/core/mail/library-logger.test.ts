import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { toLibraryLogger } from './library-logger.js';

describe('toLibraryLogger', () => {
  it('forwards lifecycle messages at debug and drops protocol lines (they may carry AUTH)', () => {
    const lines: string[] = [];
    const bridge = toLibraryLogger(
      createLogger('debug', (l) => lines.push(l)),
      'imap',
    );
    bridge.info({ src: 'connection', msg: 'Established TCP connection', cid: 'x1' });
    bridge.debug({ src: 'c', msg: '1 LOGIN "user" "secret"', cid: 'x1' });
    bridge.debug({ src: 's', msg: '1 OK Logged in', cid: 'x1' });
    bridge.debug({ tnx: 'command', cid: 7 }, 'C:', 'AUTH PLAIN AHVzZXIAc2VjcmV0');
    bridge.info({ tnx: 'network', cid: 7 }, '%s established to %s:%s', 'Connection', '127.0.0.1', 25);
    bridge.warn({ err: Object.assign(new Error('Command failed'), { responseText: 'Mailbox is full' }) });
    expect(lines).toEqual([
      'debug: imap: Established TCP connection cid=x1\n',
      'debug: imap: Connection established to 127.0.0.1:25 cid=7\n',
      'debug: imap: Command failed: Mailbox is full\n',
    ]);
  });
});
