import { describe, expect, it } from 'vitest';
import { describeStoreUrl, parseStoreUrl } from './url.js';

describe('parseStoreUrl: the host config store URL', () => {
  it('reads user, host, port, database; TLS verified unless sslmode=disable', () => {
    expect(parseStoreUrl('postgres://rds@db.example.com/rds')).toEqual({
      host: 'db.example.com',
      port: 5432,
      user: 'rds',
      database: 'rds',
      tls: true,
    });
    expect(parseStoreUrl('postgresql://rds%40x@127.0.0.1:6543/st?sslmode=disable')).toEqual({
      host: '127.0.0.1',
      port: 6543,
      user: 'rds@x',
      database: 'st',
      tls: false,
    });
    expect(parseStoreUrl('postgres://rds@[::1]:5433/rds?sslmode=disable').host).toBe('::1');
  });

  it.each([
    ['postgres://rds:hunter2@db.example.com/rds', 'it holds a password: set RDS_STORE_PASSWORD or storePasswordFile instead'],
    ['postgres://db.example.com/rds', 'it names no user'],
    ['postgres://rds@db.example.com/', 'it names no database (one path segment)'],
    ['mysql://rds@db.example.com/rds', 'scheme mysql: is not postgres://'],
    ['postgres://rds@db.example.com/rds?sslmode=require', 'sslmode=require (verify-full, or disable for a loopback server)'],
    ['postgres://rds@db.example.com/rds?sslmode=disable', 'sslmode=disable is for a loopback server only, not db.example.com'],
    ['postgres://rds@db.example.com/rds?host=/tmp', "unknown parameter 'host' (only sslmode)"],
  ])('refuses %s: %s', (url, why) => {
    expect(() => parseStoreUrl(url)).toThrow(expect.objectContaining({ code: 'BAD_STORE_URL', message: expect.stringContaining(why) }));
  });

  it('never shows a password, even one that reached the message', () => {
    let message = '';
    try {
      parseStoreUrl('postgres://rds:hunter2@db.example.com/rds');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toContain('hunter2');
    expect(describeStoreUrl(parseStoreUrl('postgres://rds@127.0.0.1:5/d?sslmode=disable'))).toBe(
      'postgres://rds@127.0.0.1:5/d?sslmode=disable',
    );
  });
});
