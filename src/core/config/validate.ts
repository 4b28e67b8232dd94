/**
 * The config file's JSON schema checked without compiling it (docs/state.md#config): every
 * command reads the config, and compiling the schema with ajv (what `conf` did) cost a
 * cron-started command more CPU than the rest of an empty pass. This interprets the subset
 * of JSON Schema that schema.ts uses, with ajv's semantics (`allErrors`, `useDefaults`,
 * `strictNumbers`) and ajv's messages in ajv's order, so a bad config gets the same lines
 * as before; src/core/config/validate.test.ts checks it against ajv on generated configs.
 * A keyword this file does not know is a bug of ours, thrown at once (never ignored): a
 * schema change that needs a new keyword fails every test that reads a config.
 */

/** One JSON Schema (the subset below); `default` fills a missing property of an object. */
export interface Schema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'null';
  enum?: readonly unknown[];
  const?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  properties?: Readonly<Record<string, Schema>>;
  required?: readonly string[];
  additionalProperties?: boolean;
  minProperties?: number;
  maxProperties?: number;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
  description?: string;
  title?: string;
}

const KNOWN = new Set([
  'type',
  'enum',
  'const',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'properties',
  'required',
  'additionalProperties',
  'minProperties',
  'maxProperties',
  'items',
  'minItems',
  'maxItems',
  'default',
  'description',
  'title',
]);

/** ajv's keyword groups, each applied when the data is of its type, keywords in ajv's order. */
const GROUPS = [
  { type: 'number', keywords: ['maximum', 'minimum', 'exclusiveMaximum', 'exclusiveMinimum'] },
  { type: 'string', keywords: ['maxLength', 'minLength', 'pattern'] },
  { type: 'array', keywords: ['maxItems', 'minItems', 'items'] },
  { type: 'object', keywords: ['maxProperties', 'minProperties', 'required', 'additionalProperties', 'properties'] },
] as const;

type Group = (typeof GROUPS)[number];

/** ajv's data type test (strictNumbers: Infinity and NaN are no number). */
function isType(type: string, data: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof data === 'string';
    case 'number':
      return typeof data === 'number' && Number.isFinite(data);
    case 'integer':
      return typeof data === 'number' && Number.isInteger(data);
    case 'boolean':
      return typeof data === 'boolean';
    case 'null':
      return data === null;
    case 'array':
      return Array.isArray(data);
    case 'object':
      return typeof data === 'object' && data !== null && !Array.isArray(data);
    default:
      throw new Error(`config schema: type '${type}' is not supported by src/core/config/validate.ts`);
  }
}

const uses = (schema: Schema, group: Group) => group.keywords.some((k) => (schema as Record<string, unknown>)[k] !== undefined);

/** JSON equality for enum and const (what ajv's deep equal gives for parsed JSON). */
function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const pointer = (key: string) => `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;

const patterns = new Map<string, RegExp>();
function regExp(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) {
    re = new RegExp(pattern, 'u'); // ajv compiles patterns with the unicode flag
    patterns.set(pattern, re);
  }
  return re;
}

/** A string's length as ajv counts it: in code points, not UTF-16 units. */
function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

interface Walk {
  errors: { path: string; message: string }[];
}

function checkKnown(schema: Schema): void {
  for (const key of Object.keys(schema)) {
    if (!KNOWN.has(key)) throw new Error(`config schema: keyword '${key}' is not supported by src/core/config/validate.ts`);
  }
}

/** The keywords of one group on data of the group's type, in ajv's order. */
function groupKeywords(schema: Schema, group: Group, data: unknown, path: string, walk: Walk): void {
  const fail = (message: string) => walk.errors.push({ path, message });
  if (group.type === 'number') numberKeywords(schema, data as number, fail);
  else if (group.type === 'string') stringKeywords(schema, data as string, fail);
  else if (group.type === 'array') arrayKeywords(schema, data as unknown[], path, walk);
  else objectKeywords(schema, data as Record<string, unknown>, path, walk);
}

function numberKeywords(schema: Schema, n: number, fail: (message: string) => void): void {
  if (schema.maximum !== undefined && !(n <= schema.maximum)) fail(`must be <= ${schema.maximum}`);
  if (schema.minimum !== undefined && !(n >= schema.minimum)) fail(`must be >= ${schema.minimum}`);
  if (schema.exclusiveMaximum !== undefined && !(n < schema.exclusiveMaximum)) fail(`must be < ${schema.exclusiveMaximum}`);
  if (schema.exclusiveMinimum !== undefined && !(n > schema.exclusiveMinimum)) fail(`must be > ${schema.exclusiveMinimum}`);
}

function stringKeywords(schema: Schema, s: string, fail: (message: string) => void): void {
  if (schema.maxLength !== undefined && codePoints(s) > schema.maxLength) {
    fail(`must NOT have more than ${schema.maxLength} characters`);
  }
  if (schema.minLength !== undefined && codePoints(s) < schema.minLength) {
    fail(`must NOT have fewer than ${schema.minLength} characters`);
  }
  if (schema.pattern !== undefined && !regExp(schema.pattern).test(s)) fail(`must match pattern "${schema.pattern}"`);
}

function arrayKeywords(schema: Schema, items: unknown[], path: string, walk: Walk): void {
  if (schema.maxItems !== undefined && items.length > schema.maxItems) {
    walk.errors.push({ path, message: `must NOT have more than ${schema.maxItems} items` });
  }
  if (schema.minItems !== undefined && items.length < schema.minItems) {
    walk.errors.push({ path, message: `must NOT have fewer than ${schema.minItems} items` });
  }
  const itemSchema = schema.items;
  if (!itemSchema) return;
  for (const [i, item] of items.entries()) check(itemSchema, item, `${path}/${i}`, walk);
}

function objectKeywords(schema: Schema, data: Record<string, unknown>, path: string, walk: Walk): void {
  const fail = (message: string) => walk.errors.push({ path, message });
  const count = Object.keys(data).length;
  if (schema.maxProperties !== undefined && count > schema.maxProperties) {
    fail(`must NOT have more than ${schema.maxProperties} properties`);
  }
  if (schema.minProperties !== undefined && count < schema.minProperties) {
    fail(`must NOT have fewer than ${schema.minProperties} properties`);
  }
  for (const key of schema.required ?? []) if (data[key] === undefined) fail(`must have required property '${key}'`);
  const properties = schema.properties ?? {};
  if (schema.additionalProperties === false) {
    for (const key in data) if (!Object.hasOwn(properties, key)) fail('must NOT have additional properties');
  }
  for (const [key, sub] of Object.entries(properties)) {
    if (data[key] !== undefined) check(sub, data[key], `${path}${pointer(key)}`, walk);
  }
}

/** ajv's defaults (useDefaults): a missing property of an object gets its schema's default. */
function assignDefaults(schema: Schema, data: Record<string, unknown>): void {
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    if (sub.default !== undefined && data[key] === undefined) data[key] = structuredClone(sub.default);
  }
}

function check(schema: Schema, data: unknown, path: string, walk: Walk): void {
  checkKnown(schema);
  const type = schema.type;
  const typeError = () => walk.errors.push({ path, message: `must be ${type}` });
  // ajv tests the type first unless the schema has keywords of that very type
  const ownGroup = GROUPS.find((g) => g.type === type);
  const upfront = type !== undefined && !(ownGroup && uses(schema, ownGroup));
  if (type !== undefined) isType(type, null); // an unknown type is refused even when unused
  if (upfront && !isType(type, data)) typeError();
  if (schema.const !== undefined && !equal(data, schema.const)) walk.errors.push({ path, message: 'must be equal to constant' });
  if (schema.enum !== undefined && !schema.enum.some((v) => equal(data, v))) {
    walk.errors.push({ path, message: 'must be equal to one of the allowed values' });
  }
  for (const group of GROUPS) {
    if (!uses(schema, group)) continue;
    if (isType(group.type, data)) {
      if (group.type === 'object') assignDefaults(schema, data as Record<string, unknown>);
      groupKeywords(schema, group, data, path, walk);
    } else if (!upfront && group === ownGroup) typeError();
  }
}

/**
 * Check `data` against `schema` as ajv would with `allErrors` and `useDefaults`: missing
 * properties that have a default get it (in place), and every violation comes back as
 * conf's line, "`path` message", in ajv's order. An empty list: valid.
 */
export function validate(schema: Schema, data: unknown): string[] {
  const walk: Walk = { errors: [] };
  check(schema, data, '', walk);
  return walk.errors.map((e) => `\`${e.path.slice(1)}\` ${e.message}`);
}

/** Every keyword of `schema` (and below) is one this file checks; throws naming the first that is not. */
export function assertSupported(schema: Schema): void {
  checkKnown(schema);
  if (schema.type !== undefined) isType(schema.type, null);
  for (const sub of Object.values(schema.properties ?? {})) assertSupported(sub);
  if (schema.items) assertSupported(schema.items);
}
