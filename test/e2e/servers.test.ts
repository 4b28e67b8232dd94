// Proves the real-server testbed (test/support/servers.ts) works: mail goes through Postfix
// with AUTH over verified STARTTLS and is read back over IMAP; snmpd and snmpsim answer.
import { randomUUID } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import snmp from 'net-snmp';
import nodemailer from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { mailTestbed, setSnmprecValues, setSnmpsimValues, snmpdTestbed, snmpsimTestbed } from '../support/testbed.js';

const SYS_DESCR = '1.3.6.1.2.1.1.1.0';
const SYS_NAME = '1.3.6.1.2.1.1.5.0';
const HR_PRINTER_STATUS = '1.3.6.1.2.1.25.3.5.1.1.1';
const PRT_MARKER_LIFE_COUNT = '1.3.6.1.2.1.43.10.2.1.4.1.1';

async function snmpGet(port: number, community: string, oids: string[]): Promise<unknown[]> {
  const session = snmp.createSession('127.0.0.1', community, {
    port,
    version: snmp.Version2c,
    timeout: 2000,
    retries: 1,
  });
  try {
    return await new Promise((resolve, reject) =>
      session.get(oids, (err, varbinds) => {
        if (err) return reject(err);
        const vbs = varbinds ?? [];
        const bad = vbs.find((vb) => snmp.isVarbindError(vb));
        if (bad) return reject(new Error(snmp.varbindError(bad)));
        resolve(vbs.map((vb) => (Buffer.isBuffer(vb.value) ? vb.value.toString() : vb.value)));
      }),
    );
  } finally {
    session.close();
  }
}

async function eventually<T>(fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('testbed: Postfix + Dovecot', () => {
  it('delivers a mail sent with AUTH over verified STARTTLS, read back over IMAP STARTTLS', async () => {
    const mail = mailTestbed();
    const to = mail.agentAddress(7);
    const subject = `testbed ${randomUUID()}`;
    const transport = nodemailer.createTransport({
      host: mail.host,
      port: mail.submissionPort,
      secure: false,
      requireTLS: true,
      tls: { ...mail.tls, rejectUnauthorized: true },
      auth: { user: mail.hostAddress, pass: mail.password },
    });
    try {
      const info = await transport.sendMail({ from: mail.hostAddress, to, subject, text: 'hello agent 7\n' });
      expect(info.accepted).toEqual([to]);
    } finally {
      transport.close();
    }

    const imap = new ImapFlow({
      host: mail.host,
      port: mail.imapPort,
      secure: false,
      doSTARTTLS: true,
      tls: { ...mail.tls, rejectUnauthorized: true },
      auth: { user: to, pass: mail.password },
      logger: false,
    });
    await imap.connect();
    try {
      const found = await eventually(async () => {
        const lock = await imap.getMailboxLock('INBOX');
        try {
          const uids = await imap.search({ subject }, { uid: true });
          if (!uids || uids.length === 0) return undefined;
          const msg = await imap.fetchOne(String(uids[0]), { envelope: true, source: true }, { uid: true });
          return msg || undefined;
        } finally {
          lock.release();
        }
      });
      expect(found.envelope?.subject).toBe(subject);
      expect(found.envelope?.from?.[0]?.address).toBe(mail.hostAddress);
      expect(found.source?.toString()).toContain('hello agent 7');
    } finally {
      await imap.logout();
    }
  });

  it('refuses AUTH with a wrong password', async () => {
    const mail = mailTestbed();
    const transport = nodemailer.createTransport({
      host: mail.host,
      port: mail.submissionPort,
      requireTLS: true,
      tls: mail.tls,
      auth: { user: mail.hostAddress, pass: 'wrong' },
    });
    try {
      await expect(transport.verify()).rejects.toThrow(/auth/i);
    } finally {
      transport.close();
    }
  });
});

describe('testbed: SNMP', () => {
  it('snmpd answers sysDescr and printer values, and sees run-time changes of its data file', async () => {
    const agent = snmpdTestbed();
    const [descr, lifeCount] = await snmpGet(agent.port, agent.community, [SYS_DESCR, PRT_MARKER_LIFE_COUNT]);
    expect(descr).toMatch(/LaserJet/);
    expect(lifeCount).toBe(12345);
    setSnmprecValues(agent.dataFile, { [HR_PRINTER_STATUS]: '2|5', [PRT_MARKER_LIFE_COUNT]: '65|12399' });
    expect(await snmpGet(agent.port, agent.community, [HR_PRINTER_STATUS, PRT_MARKER_LIFE_COUNT])).toEqual([5, 12399]);
  });

  it('snmpsim serves the fixture walks and the fleet, one device per community', async () => {
    const sim = snmpsimTestbed();
    expect(sim.communities).toEqual(expect.arrayContaining(['sharp-mx3570n', 'brother-mfc-l2710dw', 'printer-001']));
    expect(await snmpGet(sim.port, 'sharp-mx3570n', [SYS_DESCR])).toEqual(['SHARP MX-3570N']);
    const [brother] = await snmpGet(sim.port, 'brother-mfc-l2710dw', [SYS_DESCR]);
    expect(brother).toMatch(/^Brother NC-8300h/);
    expect(await snmpGet(sim.port, 'printer-002', [SYS_NAME])).toEqual(['printer-002']);
  });

  it('snmpsim picks up a rewritten device file (twice within a second)', async () => {
    const sim = snmpsimTestbed();
    const before = await snmpGet(sim.port, 'printer-003', [PRT_MARKER_LIFE_COUNT]);
    expect(before).toEqual([10000 + 3 * 37]);
    setSnmpsimValues('printer-003', { [PRT_MARKER_LIFE_COUNT]: '65|50001' });
    expect(await snmpGet(sim.port, 'printer-003', [PRT_MARKER_LIFE_COUNT])).toEqual([50001]);
    setSnmpsimValues('printer-003', { [PRT_MARKER_LIFE_COUNT]: '65|50002' });
    expect(await snmpGet(sim.port, 'printer-003', [PRT_MARKER_LIFE_COUNT])).toEqual([50002]);
  });
});
