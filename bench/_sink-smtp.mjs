#!/usr/bin/env node
// Helper child of bench/parts.mjs (not a section): an SMTP server on 127.0.0.1:PORT that
// announces SIZE in EHLO, takes every mail and throws it away (counting mails and bytes;
// on SIGTERM prints {"mails", "bytes"}). It lets bench/parts.mjs measure the host's peak RSS
// for a 200 MB package to 100 agents without writing 28 GB of mail to disk.
import { SMTPServer } from 'smtp-server';

const [port, size] = process.argv.slice(2).map(Number);
let mails = 0;
let bytes = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  size,
  logger: false,
  onData(stream, _session, done) {
    stream.on('data', (d) => {
      bytes += d.length;
    });
    stream.on('end', () => {
      mails++;
      done();
    });
  },
});
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ mails, bytes })}\n`);
  server.close(() => process.exit(0));
});
