import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caseTally } from '../../testing.js';
import { MIGRATIONS } from '../migrations.js';
import { DdlError, migrationToPostgres } from './ddl.js';
import { bindValues, DialectError, GENERATED_KEYS, toPostgres } from './dialect.js';

describe('toPostgres: SQLite queries as PostgreSQL runs them', () => {
  it('numbers ? placeholders in order, casting one tested with IS NULL', () => {
    const q = toPostgres('SELECT * FROM host_events WHERE (? IS NULL OR raised_at >= ?) AND agent_id = ?');
    expect(q.text).toBe('SELECT * FROM host_events WHERE ($1::text IS NULL OR raised_at >= $2) AND agent_id = $3');
    expect(q.count).toBe(3);
  });

  it('binds @name parameters from one object, the same name to the same $n', () => {
    const q = toPostgres(
      'INSERT INTO t (a, b) VALUES (@rollout, @agent) -- x\n ON CONFLICT (a) DO UPDATE SET b = (SELECT 1 FROM u WHERE id = @rollout)',
    );
    expect(q.text).toContain('VALUES ($1, $2)');
    expect(q.text).toContain('WHERE id = $1)');
    expect(bindValues(q, [{ rollout: 'R1', agent: 'A1' }])).toEqual(['R1', 'A1']);
    expect(() => bindValues(q, [{ rollout: 'R1' }])).toThrow(DialectError);
  });

  it('INSERT OR IGNORE → ON CONFLICT DO NOTHING, returning the generated key', () => {
    const q = toPostgres('INSERT OR IGNORE INTO outbox (message_id, kind) VALUES (?, ?)');
    expect(q.text).toBe('INSERT INTO outbox (message_id, kind) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING seq');
    expect(q.returning).toBe('seq');
  });

  it('quotes mixed-case aliases and leaves string literals alone', () => {
    const q = toPostgres("SELECT agent_id AS agentId, 'a ? @b AS x' AS note, count(*) AS n FROM t WHERE x LIKE ? ORDER BY agentId DESC, n");
    expect(q.text).toBe(
      `SELECT agent_id AS "agentId", 'a ? @b AS x' AS note, count(*) AS n FROM t WHERE x ILIKE $1 ORDER BY agentId DESC NULLS LAST, n NULLS FIRST`,
    );
    expect(q.count).toBe(1);
  });

  it('knows every generated key from the migrations themselves', () => {
    expect(GENERATED_KEYS).toEqual({
      outbox: 'seq',
      quarantine: 'seq',
      agents: 'seq',
      version_reports: 'seq',
      fault_events: 'id',
      counter_readings: 'id',
      host_events: 'id',
      alert_queue: 'id',
      agent_heartbeats: 'id',
    });
  });

  it('json_each(?) and IFNULL have PostgreSQL forms', () => {
    expect(toPostgres('UPDATE q SET s = ? WHERE id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))').text).toBe(
      'UPDATE q SET s = $1 WHERE id IN (SELECT CAST(value AS INTEGER) FROM json_array_elements_text($2::json))',
    );
    expect(toPostgres('SELECT IFNULL(a, 0) FROM t').text).toBe('SELECT COALESCE(a, 0) FROM t');
  });

  it.each([
    ['INSERT OR REPLACE INTO t VALUES (?)', 'INSERT OR REPLACE'],
    ['SELECT GROUP_CONCAT(a) FROM t', 'GROUP_CONCAT'],
    ["SELECT datetime('now')", 'datetime()'],
    ['PRAGMA foreign_keys = ON', 'PRAGMA'],
  ])('refuses %s, naming what has no PostgreSQL form', (sql, what) => {
    expect(() => toPostgres(sql)).toThrow(new RegExp(`^${what.replace(/[()]/g, '\\$&')} has no PostgreSQL form`));
  });

  it('refuses a wrong number of values and undefined or boolean values', () => {
    const q = toPostgres('SELECT ? AS a, ? AS b');
    expect(() => bindValues(q, [1])).toThrow('the query takes 2 parameter(s), got 1');
    expect(() => bindValues(q, [1, undefined])).toThrow(DialectError);
    expect(() => bindValues(q, [1, true])).toThrow(DialectError);
    expect(bindValues(q, [[1, 2n]])).toEqual([1, '2']);
  });

  it('property: every ? outside literals becomes the next $n, literals come back byte for byte', () => {
    const runs = 300;
    const tally = caseTally();
    const literal = fc.string({ maxLength: 8 }).map((s) => `'${s.replace(/'/g, "''")}'`);
    const piece = fc.oneof(fc.constant('?'), fc.constant(' a = '), fc.constant(', '), literal, fc.constantFrom('x', 'y1', '(b)'));
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 12 }), (pieces) => {
        const sql = `SELECT ${pieces.join(' ')}`;
        const q = toPostgres(sql);
        const marks = pieces.filter((p) => p === '?').length;
        expect(q.count).toBe(marks);
        let n = 0;
        const expected = `SELECT ${pieces.map((p) => (p === '?' ? `$${++n}` : p)).join(' ')}`.trim();
        expect(q.text).toBe(expected);
        tally.count(marks > 0 && pieces.some((p) => p.startsWith("'")) ? 'decoded' : 'refused');
      }),
      { numRuns: runs },
    );
    tally.atLeast('decoded', 0.3, runs);
  });
});

describe('migrationToPostgres: the numbered migrations on PostgreSQL', () => {
  it('gives every migration a PostgreSQL form (a new one without one fails here)', () => {
    const triggers = new Map<string, string>();
    for (const m of MIGRATIONS) expect(() => migrationToPostgres(m, triggers), `migration ${m.version}`).not.toThrow();
    expect([...triggers.keys()].sort()).toEqual([
      'outbox_rollout_ended',
      'outbox_rollout_queued',
      'outbox_rollout_requeued',
      'outbox_rollout_sent',
    ]);
  });

  it('translates keys, types and triggers', () => {
    const sql = migrationToPostgres(
      {
        version: 99,
        name: 't',
        sql: `CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER, r REAL, b BLOB, s TEXT);
          CREATE TRIGGER t_ins AFTER INSERT ON t WHEN NEW.n IS NOT NULL BEGIN UPDATE t SET n = n + 1 WHERE id = NEW.id; END;`,
      },
      new Map(),
    );
    expect(sql).toContain(
      'id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT, r DOUBLE PRECISION, b BYTEA, s TEXT COLLATE "C"',
    );
    expect(sql).toContain('CREATE TRIGGER t_ins AFTER INSERT ON t FOR EACH ROW WHEN (NEW.n IS NOT NULL) EXECUTE FUNCTION t_ins_fn()');
    expect(sql).toContain('$t$ BEGIN UPDATE t SET n = n + 1 WHERE id = NEW.id; RETURN NULL; END $t$');
  });

  it('refuses what it cannot translate, naming the migration', () => {
    expect(() => migrationToPostgres({ version: 42, name: 'x', sql: 'INSERT OR REPLACE INTO meta VALUES (1, 2);' }, new Map())).toThrow(
      new DdlError('migration 42 (x) uses INSERT OR …: give it a PostgreSQL form in src/core/store/pg/ddl.ts'),
    );
    expect(() => migrationToPostgres({ version: 43, name: 'y', sql: 'DROP TRIGGER nope;' }, new Map())).toThrow(DdlError);
  });
});
