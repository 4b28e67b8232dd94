// The mail flow of the product, written once and run on every mail backend: a host and six
// agents; one agent's install script fails, one never polls → verify names exactly those
// two. Then hostile deliveries: the same update twice, agent A's update in agent B's
// mailbox, a forged host mail signed by another key, an expired command.
import fs from 'node:fs';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/core/crypto/keys.js';
import { composeMail } from '../../src/core/message/mail.js';
import { buildPayload, signPayload } from '../../src/core/message/payload.js';
import { ensureBuilt, tempDir } from './cli.js';
import { type Fleet, installRuns, makeFleet, writeInstallScript } from './fleet.js';
import type { MailBackend } from './mail-backends.js';

export function defineMailFlowSuite(makeBackend: (root: string) => MailBackend | Promise<MailBackend>): void {
  let mail: MailBackend;
  let fleet: Fleet;
  let root: string;

  beforeAll(async () => {
    ensureBuilt();
    root = tempDir('rds-mail-flow-');
    mail = await makeBackend(root);
    fleet = await makeFleet(root, {
      hostAddress: mail.hostAddress,
      agentAddresses: [1, 2, 3, 4, 5, 6].map((n) => mail.agentAddress(n)),
      urlsFor: (a) => mail.urlsFor(a),
    });
  });
  afterAll(async () => {
    await mail?.close();
  });

  const agent = (n: number) => fleet.agents[n - 1] as Fleet['agents'][number];

  async function signedBy(key: openpgp.PrivateKey, to: Fleet['agents'][number], issued: Date, ttlMs: number): Promise<Buffer> {
    const payload = buildPayload({ type: 'version-request', from: 'HOST', to: [to.id], body: {}, ttlMs, clock: { now: () => issued } });
    const { raw } = await composeMail({
      from: mail.hostAddress,
      to: to.address,
      subject: 'version request',
      text: 'x',
      type: payload.type,
      payloadId: payload.id,
      armoredPayload: await signPayload(payload, key),
    });
    return raw;
  }

  describe('update flow', () => {
    it('pushes to six agents; verify names exactly the failed install and the silent agent', async () => {
      fs.writeFileSync(path.join(agent(3).dir, 'install', 'fail-install'), '');
      const script = writeInstallScript(root);
      fs.writeFileSync(path.join(root, 'main.cgi'), 'main v1.0.01\n');
      const pkg = path.join(root, 'up.rdsu');
      await fleet.run(
        fleet.host,
        0,
        'pack-update',
        '--software-version',
        '1.0.02-0',
        '--script',
        script,
        '--module',
        `main.cgi=1.0.01:${path.join(root, 'main.cgi')}`,
        '-o',
        pkg,
      );
      const pushed = JSON.parse((await fleet.run(fleet.host, 0, '--json', 'push-all', pkg)).stdout);
      expect(pushed.agents.map((a: { status: string }) => a.status)).toEqual(Array(6).fill('sent'));

      for (const n of [1, 2, 4, 6]) {
        await mail.waitForMail(agent(n).address);
        expect((await fleet.run(agent(n), 0, 'poll-mail')).stdout).toMatch(/update .*: installed/);
      }
      await mail.waitForMail(agent(3).address);
      expect((await fleet.run(agent(3), 1, 'poll-mail')).stdout).toMatch(/update .*: rolled-back/);
      expect(fs.readlinkSync(path.join(agent(3).dir, 'install', 'current'))).toBe('releases/1.0.00-1');

      await mail.waitForMail(mail.hostAddress, 5);
      const table = JSON.parse((await fleet.run(fleet.host, 1, '--json', 'verify', '--wait', '5s')).stdout);
      expect(table.target).toBe('1.0.02-0');
      const failed = table.agents
        .filter((a: { failed: boolean }) => a.failed)
        .map((a: { agentId: string; reason: string }) => [a.agentId, a.reason]);
      expect(failed).toEqual([
        [agent(3).id, 'rolled-back'],
        [agent(5).id, 'no-reply'],
      ]);
      expect(table.failed).toBe(2);
      const human = (await fleet.run(fleet.host, 1, 'verify', '--no-inbox')).stdout;
      expect(human).toContain('update to: 1.0.02-0');
      expect(human.split('\n').filter((l) => l.includes('✗'))).toHaveLength(2);
      expect(await mail.mailboxRaw(mail.hostAddress, 'INBOX')).toHaveLength(0);
    });

    it('the same update mail delivered twice is installed once', async () => {
      const processed = await mail.mailboxRaw(agent(1).address, 'rds-processed');
      const update = processed.find((raw) => /^x-rds-type: update/im.test(raw.toString('latin1')));
      expect(update).toBeDefined();
      await mail.deliverRaw(agent(1).address, update as Buffer);
      await mail.waitForMail(agent(1).address);
      expect((await fleet.run(agent(1), 4, 'poll-mail')).stdout).toContain('REPLAYED');
      expect(installRuns(agent(1))).toBe(1);
      expect(await mail.mailboxRaw(agent(1).address, 'rds-quarantine')).toHaveLength(1);
    });

    it("agent A's update mail in agent B's mailbox: B installs nothing and quarantines it", async () => {
      const [forA5] = await mail.mailboxRaw(agent(5).address, 'INBOX');
      expect(forA5).toBeDefined();
      const before = installRuns(agent(2));
      await mail.deliverRaw(agent(2).address, forA5 as Buffer);
      await mail.waitForMail(agent(2).address);
      expect((await fleet.run(agent(2), 4, 'poll-mail')).stdout).toContain('NOT_FOR_ME');
      expect(installRuns(agent(2))).toBe(before);
      expect(await mail.mailboxRaw(agent(2).address, 'rds-quarantine')).toHaveLength(1);
    });

    it("a mail with the host's From address signed by another key is quarantined", async () => {
      const rogue = await generateKeyPair('HOST', mail.hostAddress);
      const raw = await signedBy(await openpgp.readPrivateKey({ armoredKey: rogue.privateArmored }), agent(4), new Date(), 3600_000);
      await mail.deliverRaw(agent(4).address, raw);
      await mail.waitForMail(agent(4).address);
      expect((await fleet.run(agent(4), 4, 'poll-mail')).stdout).toContain('UNKNOWN_KEY');
      expect(await mail.mailboxRaw(agent(4).address, 'rds-quarantine')).toHaveLength(1);
    });

    it('an expired command signed by the real host key is quarantined and not answered', async () => {
      const hostKey = await openpgp.readPrivateKey({
        armoredKey: fs.readFileSync(path.join(fleet.host.dir, 'keys', 'private.asc'), 'utf8'),
      });
      const raw = await signedBy(hostKey, agent(6), new Date(Date.now() - 3 * 86400_000), 86400_000);
      await mail.deliverRaw(agent(6).address, raw);
      await mail.waitForMail(agent(6).address);
      expect((await fleet.run(agent(6), 4, 'poll-mail')).stdout).toContain('EXPIRED');
      expect(await mail.mailboxRaw(agent(6).address, 'rds-quarantine')).toHaveLength(1);
    });
  });
}
