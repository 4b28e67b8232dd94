import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { caseTally } from '../testing.js';
import { formatMailUrl, type MailUrl, parseMailUrl, redactMailUrl, type ServerMailUrl } from './url.js';

describe('parseMailUrl', () => {
  it.each<[string, MailUrl]>([
    ['smtp://mail.example.com', { scheme: 'smtp', host: 'mail.example.com', port: 25, tls: 'starttls' }],
    ['smtps://mail.example.com', { scheme: 'smtps', host: 'mail.example.com', port: 465, tls: 'implicit' }],
    ['imap://u:p@mail.example.com', { scheme: 'imap', host: 'mail.example.com', port: 143, tls: 'starttls', user: 'u', password: 'p' }],
    ['imaps://u:p@mail.example.com', { scheme: 'imaps', host: 'mail.example.com', port: 993, tls: 'implicit', user: 'u', password: 'p' }],
    [
      'imap://agent1%40example.com:pass@mail.example.com:993',
      { scheme: 'imap', host: 'mail.example.com', port: 993, tls: 'starttls', user: 'agent1@example.com', password: 'pass' },
    ],
    [
      'SMTP://Host%40x.y:p%3A%40%2F%3F%23ss@MAIL.Example.COM:587/',
      { scheme: 'smtp', host: 'mail.example.com', port: 587, tls: 'starttls', user: 'Host@x.y', password: 'p:@/?#ss' },
    ],
    ['smtp://127.0.0.1:2525?tls=off', { scheme: 'smtp', host: '127.0.0.1', port: 2525, tls: 'off' }],
    ['smtp://[::1]:2525', { scheme: 'smtp', host: '::1', port: 2525, tls: 'starttls' }],
    ['smtp://user@host', { scheme: 'smtp', host: 'host', port: 25, tls: 'starttls', user: 'user' }],
    ['maildir:///var/lib/rds/mail', { scheme: 'maildir', root: '/var/lib/rds/mail' }],
    ['maildir:///tmp/a%20b/', { scheme: 'maildir', root: '/tmp/a b' }],
  ])('%s', (text, expected) => {
    expect(parseMailUrl(text)).toEqual(expected);
  });

  it('takes the password override over the one in the URL', () => {
    expect(parseMailUrl('smtps://u:inurl@h', { passwordOverride: 'fromenv' })).toMatchObject({ user: 'u', password: 'fromenv' });
    expect(parseMailUrl('smtps://u@h', { passwordOverride: 'fromfile' })).toMatchObject({ password: 'fromfile' });
  });

  it.each([
    ['http://host', /unknown scheme "http:"/],
    ['mail.example.com:25', /unknown scheme "mail.example.com:"/],
    ['/var/mail', /does not start with a scheme/],
    ['smtp://host:99999', /port "99999" is not a number from 1 to 65535/],
    ['smtp://host:0', /port "0" is not a number from 1 to 65535/],
    ['smtp://host:abc', /port "abc"/],
    ['smtp://', /no host name/],
    ['smtp://host/inbox', /unexpected path "\/inbox"/],
    ['smtp://host?starttls=yes', /unknown option "\?starttls"/],
    ['smtp://host?tls=on', /"\?tls=on" is not supported/],
    ['smtps://host?tls=off', /contradicts smtps:\/\//],
    ['smtp://host#x', /fragment/],
    ['smtp://:secret@host', /password is given but no user name/],
    ['imap://u:p@bücher.example', /not an ASCII host name/],
    ['smtp://u%zz:p@host', /user name has a malformed %-escape/],
    ['maildir://relative/path', /three slashes/],
    ['maildir:///var/mail?x=1', /takes no \?options/],
  ])('refuses %s', (text, message) => {
    const error = catchError(() => parseMailUrl(text));
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ code: 'MAIL_URL_INVALID', exitCode: 2 });
    expect((error as Error).message).toMatch(message);
  });

  it('never shows the password in an error', () => {
    for (const text of ['smtp://u:hunter2@host:99999', 'smtp://u:hunter2@host/path', 'smtp://u:hun/ter2@host', 'smtp://u:hun@ter2@h?x=1']) {
      const error = catchError(() => parseMailUrl(text)) as UsageError;
      expect(error.message).not.toMatch(/hunter2|hun\/ter2|ter2/);
      expect(JSON.stringify(error.details)).not.toMatch(/hunter2|ter2/);
    }
  });
});

describe('a mail URL that fails to parse never echoes the password', () => {
  // Password pieces are distinctive tokens joined by the characters that break a URL apart;
  // whatever the parser trips over, no piece may reach the message or the JSON details.
  const piece = fc.constantFrom('QXa1', 'ZZb9', 'KWc7', 'PPd3');
  const delimiter = fc.constantFrom('/', '?', '#', ':', '@', '%', '%z', ' ', '[', '\\', '');
  const password = fc
    .array(fc.tuple(piece, delimiter), { minLength: 1, maxLength: 4 })
    .map((parts) => parts.map(([p, d]) => `${p}${d}`).join(''));
  const prefix = fc.constantFrom('smtp://', 'imaps://', 'smtp:', 'smtp:/', 'mailto:', 'smpt://', 'maildir://');
  const suffix = fc.constantFrom('', ':587', ':99999', ':ab', '/path', '?tls=off', '?x=1', '#f', ' x');

  it('in the message or the details, whatever the parser trips over', () => {
    const t = caseTally();
    const numRuns = 2000;
    fc.assert(
      fc.property(prefix, password, suffix, (pre, pw, post) => {
        const text = `${pre}u:${pw}@mail.example.com${post}`;
        let error: unknown;
        try {
          parseMailUrl(text);
        } catch (e) {
          error = e;
        }
        if (error === undefined) return void t.decoded(); // a URL that parses: nothing shown to check
        expect(error).toBeInstanceOf(UsageError);
        const shown = `${(error as UsageError).message}\n${JSON.stringify((error as UsageError).details)}\n${redactMailUrl(text)}`;
        for (const token of ['QXa1', 'ZZb9', 'KWc7', 'PPd3']) expect(shown).not.toContain(token);
        t.refused();
      }),
      { numRuns, seed: 9 },
    );
    t.atLeast('refused', 0.5, numRuns);
  });

  it.each([
    ['smtp://u:pa#ss@host', /raw "\/", "\?" or "#"/],
    ['smtp://u:12/34@host', /raw "\/", "\?" or "#"/],
    ['smtp://u:12?34@host', /raw "\/", "\?" or "#"/],
    ['smtp:u:hunter@host', /^bad mail URL smtp:\*\*\*@host: /],
    ['u:hunter@host', /^bad mail URL \*\*\*@host: no known scheme/],
  ])('%s → %s', (text, message) => {
    expect((catchError(() => parseMailUrl(text)) as Error).message).toMatch(message);
  });
});

describe('redactMailUrl', () => {
  it.each([
    ['smtp://agent1%40x.y:secret@h:587', 'smtp://agent1%40x.y:***@h:587'],
    ['imaps://u@h', 'imaps://u@h:993'],
    ['maildir:///srv/mail', 'maildir:///srv/mail'],
    ['smtp://u:sec/ret@h', 'smtp://u:***@h'],
    ['smtp://u:a@b@h:99999', 'smtp://u:***@h:99999'],
  ])('%s → %s', (text, shown) => {
    expect(redactMailUrl(text)).toBe(shown);
  });

  it('redacts a parsed URL', () => {
    expect(redactMailUrl({ scheme: 'imap', host: 'h', port: 143, tls: 'starttls', user: 'u', password: 'pw' })).toBe('imap://u:***@h:143');
  });
});

describe('formatMailUrl ∘ parseMailUrl', () => {
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
  const host = fc.oneof(
    fc.array(label, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.')),
    fc.ipV4(),
    fc.ipV6(),
  );
  const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 });
  const serverUrl: fc.Arbitrary<ServerMailUrl> = fc
    .record({
      scheme: fc.constantFrom('smtp', 'smtps', 'imap', 'imaps' as const),
      host,
      port: fc.integer({ min: 1, max: 65535 }),
      user: fc.option(text, { nil: undefined }),
      password: fc.option(text, { nil: undefined }),
      plaintext: fc.boolean(),
    })
    .map(({ scheme, plaintext, user, password, ...rest }) => ({
      scheme,
      ...rest,
      tls: scheme.endsWith('s') ? 'implicit' : plaintext ? 'off' : 'starttls',
      ...(user === undefined ? {} : { user }),
      ...(user === undefined || password === undefined ? {} : { password }),
    }));
  const segment = fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
    .filter((s) => !s.includes('/') && s !== '.' && s !== '..' && !s.includes('\0'));
  const maildirUrl: fc.Arbitrary<MailUrl> = fc
    .array(segment, { minLength: 1, maxLength: 4 })
    .map((parts) => ({ scheme: 'maildir', root: `/${parts.join('/')}` }));

  it('round-trips every URL it formats', () => {
    fc.assert(
      fc.property(fc.oneof(serverUrl, maildirUrl), (url) => {
        expect(parseMailUrl(formatMailUrl(url))).toEqual(normaliseHost(url));
      }),
      { numRuns: 500 },
    );
  });
});

// IPv6 literals come back in the canonical form the WHATWG URL parser gives them.
function normaliseHost(url: MailUrl): MailUrl {
  if (url.scheme === 'maildir' || !url.host.includes(':')) return url;
  return { ...url, host: new URL(`http://[${url.host}]`).hostname.slice(1, -1) };
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('POP3 URLs', () => {
  it('pop3:// upgrades with STLS on port 110, pop3s:// is implicit TLS on 995', () => {
    expect(parseMailUrl('pop3://agent1%40example.com:pw@mail.example.com')).toEqual({
      scheme: 'pop3',
      host: 'mail.example.com',
      port: 110,
      tls: 'starttls',
      user: 'agent1@example.com',
      password: 'pw',
    });
    expect(parseMailUrl('pop3s://a@mail.example.com')).toMatchObject({ scheme: 'pop3s', port: 995, tls: 'implicit' });
    expect(parseMailUrl('pop3://a@127.0.0.1:2110?tls=off')).toMatchObject({ port: 2110, tls: 'off' });
    expect(() => parseMailUrl('pop3s://a@h?tls=off')).toThrow(/contradicts pop3s:\/\//);
  });
});
