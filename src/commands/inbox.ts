import { receiveExitCode } from '../core/message/inbound.js';
import { openContext } from './context.js';
import { runEvery } from './every.js';
import { takeInMail } from './host-inbox.js';
import { flushAll, mailExitCode, mailLine, summariseMail } from './mail-context.js';
import { runServicePass, servicePassLines } from './service-pass.js';
import type { OptionsOf } from './specs/define.js';
import type { inbox } from './specs/host.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(options: OptionsOf<typeof inbox>, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'inbox', { role: 'host', lock: options.every ? { perPass: ['mailbox', 'outbox'] } : ['mailbox'] });
  try {
    return await runEvery(options.every, ctx.logger, async () => {
      const received = await takeInMail(ctx, options.max ? Number(options.max) : undefined);
      const service = await runServicePass(ctx, { alerts: true });
      const mail = summariseMail(ctx, await flushAll(ctx)); // acks queued by the handlers, alert mail (and earlier runs' mail)
      const exitCode = mailExitCode(receiveExitCode(received, false), mail);
      const counts = new Map<string, number>();
      for (const p of received.processed) counts.set(p.type, (counts.get(p.type) ?? 0) + 1);
      const lines = [...counts].map(([type, n]) => `${n} ${type}`);
      for (const q of received.quarantined) lines.push(`quarantined ${q.code}: ${q.reason}`);
      for (const f of received.failed) lines.push(`left in the inbox (a bug, see the log): ${f.error}`);
      lines.push(...servicePassLines(service));
      const line = mailLine(mail);
      if (line) lines.push(line);
      return { exitCode, data: { ...received, service, mail }, text: lines.length > 0 ? lines.join('\n') : 'no mail' };
    });
  } finally {
    ctx.close();
  }
}
