// `rds quarantine show|release` on real Dovecot (issue 10 part 3): the host quarantines a
// version report from an agent it does not know (IMAP MOVE to rds-quarantine); show finds
// the mail there by its Message-ID, release MOVEs it back to INBOX once the agent is
// registered, and the next `rds inbox` takes it in through every check.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { payload, privateKeyOf, rawMail, sign } from '../hostile/helpers.js';
import { ensureBuilt, tempDir } from '../support/cli.js';
import { type Fleet, makeFleet } from '../support/fleet.js';
import type { MailBackend } from '../support/mail-backends.js';
import { realMailBackend } from '../support/real-mail-backend.js';

const VERSION_TEXT = 'Software Version\t1.0.00-1\n---Modules---\nabcd.exe\t1.0.00\t2002/01/01\n';

interface QuarantineRow {
  id: number;
  code: string;
  from: string | null;
  releasable: boolean;
  releasedAt: string | null;
}

let mail: MailBackend;
let fleet: Fleet;
let agent: Fleet['agents'][number];
let id: number;

beforeAll(async () => {
  ensureBuilt();
  mail = realMailBackend();
  fleet = await makeFleet(tempDir('i10s-e2e-quarantine-'), {
    hostAddress: mail.hostAddress,
    agentAddresses: [mail.agentAddress(18)],
    urlsFor: (a) => mail.urlsFor(a),
  });
  agent = fleet.agents[0] as Fleet['agents'][number];
  // the host forgets the agent, which then reports: an UNKNOWN_SENDER for the quarantine
  await fleet.run(fleet.host, 0, 'agents', 'remove', agent.id);
  const key = await privateKeyOf(path.join(agent.dir, 'keys', 'private.asc'));
  const p = payload({
    type: 'version-report',
    from: agent.id,
    to: ['HOST'],
    body: { softwareVersion: '1.0.00-1', versionText: VERSION_TEXT },
  });
  await mail.deliverRaw(mail.hostAddress, rawMail({ from: agent.address, to: mail.hostAddress, payloadAsc: await sign(p, key) }));
  await mail.waitForMail(mail.hostAddress);
  await fleet.run(fleet.host, 4, 'inbox');
  const { quarantine } = JSON.parse((await fleet.run(fleet.host, 0, '--json', 'quarantine', 'list')).stdout) as {
    quarantine: QuarantineRow[];
  };
  const mine = quarantine.filter((q) => q.from === agent.address);
  expect(mine).toHaveLength(1);
  expect(mine[0]).toMatchObject({ code: 'UNKNOWN_SENDER', releasable: true });
  id = (mine[0] as QuarantineRow).id;
}, 120_000);

describe('rds quarantine on Dovecot', () => {
  it('show finds the mail in rds-quarantine by its Message-ID', async () => {
    const shown = JSON.parse((await fleet.run(fleet.host, 0, '--json', 'quarantine', 'show', String(id))).stdout);
    expect(shown.mail).toMatchObject({ folder: 'rds-quarantine', present: true, where: expect.stringMatching(/^rds-quarantine uid \d+$/) });
  });

  it('release before the agent is registered again: exit 2, the mail stays', async () => {
    await fleet.run(fleet.host, 2, 'quarantine', 'release', String(id));
    const shown = JSON.parse((await fleet.run(fleet.host, 0, '--json', 'quarantine', 'show', String(id))).stdout);
    expect(shown.mail.present).toBe(true);
  });

  it('registered again: release MOVEs it to INBOX and rds inbox takes it in', async () => {
    await fleet.run(fleet.host, 0, 'agents', 'add', '--id', agent.id, '--address', agent.address, '--key', agent.publicKeyFile);
    const r = await fleet.run(fleet.host, 0, 'quarantine', 'release', String(id));
    expect(r.stdout).toContain(`released quarantined mail ${id} (UNKNOWN_SENDER) to the inbox`);
    const inbox = JSON.parse((await fleet.run(fleet.host, 0, '--json', 'inbox')).stdout);
    expect(inbox.processed).toEqual([expect.objectContaining({ type: 'version-report', from: agent.id })]);
    const shown = JSON.parse((await fleet.run(fleet.host, 0, '--json', 'quarantine', 'show', String(id))).stdout);
    expect(shown).toMatchObject({ releasable: false, releasedAt: expect.any(String), mail: { present: false } });
  });
});
