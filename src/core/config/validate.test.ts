// The config validator against ajv, the validator `conf` compiled the same schema with
// (Ajv2020, allErrors, useDefaults, ajv-formats: conf 15's options): on configs generated
// from CONFIG_PROPERTIES itself (so a key another change adds is covered the day it is
// added), mutated value by value, and on arbitrary JSON, both must give the same lines in
// the same order and fill in the same defaults.
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caseTally } from '../testing.js';
import { AGENT_REQUIRED, COMMON_REQUIRED, CONFIG_PROPERTIES } from './schema.js';
import { assertSupported, type Schema, validate } from './validate.js';

const ROOT: Schema = {
  required: COMMON_REQUIRED,
  additionalProperties: false,
  type: 'object',
  properties: CONFIG_PROPERTIES as Record<string, Schema>,
};
const CREATE: Schema = { additionalProperties: false, type: 'object', properties: ROOT.properties as Record<string, Schema> };

function ajvLines(schema: Schema) {
  const ajv = new Ajv2020({ allErrors: true, useDefaults: true });
  (ajvFormats as unknown as (a: Ajv2020) => void)(ajv);
  const check = ajv.compile(schema as object);
  return (data: unknown): string[] =>
    check(data) ? [] : (check.errors ?? []).map(({ instancePath, message = '' }) => `\`${instancePath.slice(1)}\` ${message}`);
}

/** A value the schema takes (patterns are met by a few fixed texts per pattern). */
function valid(schema: Schema): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e9 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e9, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'object':
      return schema.properties ? objectOf(schema, 0.7) : fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }));
    case 'array':
      return fc.array(schema.items ? valid(schema.items) : fc.jsonValue({ maxDepth: 1 }), {
        minLength: schema.minItems ?? 0,
        maxLength: schema.maxItems ?? 4,
      });
    default:
      return schema.pattern
        ? fc.constantFrom(...SAMPLES.filter((s) => new RegExp(schema.pattern ?? '', 'u').test(s)))
        : fc.oneof(fc.constantFrom(...SAMPLES), fc.string({ minLength: schema.minLength ?? 0, maxLength: 8 }));
  }
}

// texts that meet each pattern of the schema (and many that do not)
const SAMPLES = [
  'AGENT0001',
  'a.b_c:d@e-f',
  'x@example.com',
  'smtp://mail.example',
  'smtps://u@mail.example',
  'maildir:///var/mail',
  'imap://mail.example',
  'imaps://mail.example',
  'pop3://mail.example',
  'pop3s://mail.example',
  '7d',
  '5m',
  '30s',
  '1.5h',
  '250ms',
  'HOST',
  '/etc/rds/state',
  'sqlite',
  'postgres://rds@127.0.0.1:5432/rds',
  'postgresql://rds@db.example/rds?sslmode=verify-full',
];
const textArb = fc.oneof(
  fc.constantFrom(...SAMPLES),
  fc.string({ maxLength: 8 }),
  fc.constant(''),
  fc.string({ unit: 'grapheme', maxLength: 3 }),
);

/** An object of the schema's properties, each present with probability `p`, required ones always. */
function objectOf(schema: Schema, p: number): fc.Arbitrary<Record<string, unknown>> {
  const required = new Set(schema.required ?? []);
  const props = Object.entries(schema.properties ?? {});
  return fc
    .tuple(
      ...props.map(([key, sub]) =>
        (required.has(key) ? valid(sub) : fc.option(valid(sub), { freq: Math.round(1 / (1 - p)) })).map((v) => [key, v] as const),
      ),
    )
    .map((pairs) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of pairs) if (v !== null || required.has(k)) out[k] = v;
      return out;
    });
}

/** Something a value may be replaced by: the wrong type, a near miss, an edge number. */
const mutant = fc.oneof(
  textArb,
  fc.integer({ min: -5000, max: 20_000_000 }),
  fc.constantFrom(1.5, 1023, 1024, 0, -1, 1e300, Number.MAX_SAFE_INTEGER + 2, true, false, null, [], {}, ['x'], { a: 1 }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** A config: every required key, some optional ones, then a few keys replaced, removed or added. */
const configArb = fc
  .tuple(
    objectOf({ ...ROOT, required: [...COMMON_REQUIRED, ...AGENT_REQUIRED] }, 0.5),
    fc.array(
      fc.tuple(
        fc.constantFrom('replace', 'delete', 'add'),
        fc.constantFrom(...Object.keys(CONFIG_PROPERTIES), 'runAsRoot', 'toString', '__proto__', 'a/b~c'),
        mutant,
      ),
      { maxLength: 3 },
    ),
    fc.boolean(),
  )
  .map(([config, edits, keep]) => {
    for (const [op, key, value] of keep ? [] : edits) {
      if (op === 'delete') delete config[key];
      else Object.defineProperty(config, key, { value, enumerable: true, writable: true, configurable: true });
    }
    return config;
  });

describe('config validator = ajv (what conf compiled)', () => {
  it('knows every keyword the config schema uses (a new one fails here, naming it)', () => {
    expect(() => assertSupported(ROOT)).not.toThrow();
    expect(() => assertSupported({ type: 'object', properties: { x: { format: 'uri' } as Schema } })).toThrow(/keyword 'format'/);
    expect(() => validate({ type: 'string', oneOf: [] } as Schema, 'x')).toThrow(/keyword 'oneOf'/);
  });

  it.each([
    ['config file', ROOT],
    ['rds init (no required keys)', CREATE],
  ])(
    'gives ajv lines, in ajv order, and its defaults: generated configs (%s)',
    (_name, schema) => {
      const ajv = ajvLines(schema);
      const tally = caseTally<'valid' | 'invalid'>();
      const runs = 800;
      fc.assert(
        fc.property(configArb, (config) => {
          const ours = structuredClone(config);
          const theirs = structuredClone(config);
          const lines = validate(schema, ours);
          expect(lines).toEqual(ajv(theirs));
          expect(ours).toEqual(theirs); // the same defaults filled in
          expect(Object.keys(ours)).toEqual(Object.keys(theirs));
          tally.count(lines.length === 0 ? 'valid' : 'invalid');
        }),
        { numRuns: runs },
      );
      tally.atLeast('valid', 0.4, runs);
      tally.atLeast('invalid', 0.2, runs);
    },
    60_000,
  );

  it('gives ajv lines on arbitrary JSON (not an object, wrong shapes)', () => {
    const ajv = ajvLines(ROOT);
    const tally = caseTally<'object' | 'other'>();
    const runs = 500;
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (value) => {
        const ours = structuredClone(value);
        expect(validate(ROOT, ours)).toEqual(ajv(structuredClone(value)));
        tally.count(typeof value === 'object' && value !== null && !Array.isArray(value) ? 'object' : 'other');
      }),
      { numRuns: runs },
    );
    tally.atLeast('object', 0.1, runs);
    tally.atLeast('other', 0.3, runs);
  }, 60_000);

  it.each<[string, Schema, unknown]>([
    ['nested object with required, additional and defaults', NESTED(), { parts: { deadline: '1x', extra: 1 } }],
    ['nested object filled with defaults', NESTED(), { parts: {} }],
    ['array items and limits', { type: 'array', items: { type: 'integer', minimum: 2 }, minItems: 2, maxItems: 3 }, [1, 2.5, 'x', 4]],
    ['integer beyond all limits', { type: 'integer', maximum: 5, exclusiveMinimum: 9, exclusiveMaximum: 1 }, 7.5],
    ['string lengths in code points', { type: 'string', minLength: 3, maxLength: 4 }, '😀😀'],
    ['const and enum of objects', { const: { a: [1] }, enum: [{ a: [1] }, 2] }, { a: [1] }],
    ['wrong const', { const: { a: [1] } }, { a: [2] }],
    ['an object of too many properties', { type: 'object', maxProperties: 1, minProperties: 3 }, { a: 1, b: 2 }],
  ])('gives ajv lines for keywords the schema may use later: %s', (_name, schema, value) => {
    const ours = structuredClone(value);
    const theirs = structuredClone(value);
    expect(validate(schema, ours)).toEqual(ajvLines(schema)(theirs));
    expect(ours).toEqual(theirs);
  });
});

function NESTED(): Schema {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      parts: {
        type: 'object',
        required: ['deadline'],
        additionalProperties: false,
        properties: {
          deadline: { type: 'string', pattern: '^\\d+(ms|s|m|h|d)$', default: '7d' },
          max: { type: 'integer', minimum: 1, default: 64 },
        },
      },
    },
  };
}
