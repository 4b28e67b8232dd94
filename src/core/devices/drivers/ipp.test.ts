import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caseTally } from '../../testing.js';
import { decodeResponse, encodeRequest, encodeResponse, IPP_OPERATION, IppParseError, printerAttributes, TAG } from './ipp-codec.js';
import { countersFromAttributes, faultsFromAttributes, identityFromAttributes, suppliesFromAttributes } from './ipp-decode.js';

const nameArb = fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/);
const attrArb = fc.oneof(
  fc.record({
    tag: fc.constant(TAG.keyword as number),
    name: nameArb,
    values: fc.array(fc.stringMatching(/^[a-z0-9-]{1,20}$/), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({
    tag: fc.constant(TAG.text as number),
    name: nameArb,
    values: fc.array(fc.string({ maxLength: 40 }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    tag: fc.constant(TAG.integer as number),
    name: nameArb,
    values: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: 1, maxLength: 3 }),
  }),
);

describe('IPP encoding (RFC 8010)', () => {
  it('decodes what was encoded: every attribute with all its values, in order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(attrArb, { selector: (a) => a.name, maxLength: 12 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        (attrs, id) => {
          const decoded = decodeResponse(encodeResponse(0, id, attrs));
          expect(decoded.requestId).toBe(id);
          expect(decoded.statusCode).toBe(0);
          const got = printerAttributes(decoded);
          expect([...got.keys()]).toEqual(attrs.map((a) => a.name));
          for (const a of attrs) expect(got.get(a.name)).toEqual(a.values);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random, cut or flipped bytes: a result or an IppParseError, never anything else', () => {
    const honest = encodeResponse(0, 7, [
      { tag: TAG.keyword, name: 'printer-state-reasons', values: ['media-jam-error', 'toner-low-warning'] },
    ]);
    const t = caseTally();
    const numRuns = 500;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
          fc.nat(honest.length).map((n) => honest.subarray(0, n)),
          // the honest response with a byte flipped: most flips land in names or values and still decode
          fc.tuple(fc.nat(honest.length - 1), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
            const bytes = Buffer.from(honest);
            bytes[at] = (bytes[at] as number) ^ x;
            return bytes;
          }),
        ),
        (bytes) => {
          try {
            decodeResponse(bytes);
            t.decoded();
          } catch (error) {
            expect(error).toBeInstanceOf(IppParseError);
            t.refused();
          }
        },
      ),
      { numRuns },
    );
    t.atLeast('decoded', 0.05, numRuns);
    t.atLeast('refused', 0.4, numRuns);
  });

  it('a request carries the operation, the id and every requested attribute', () => {
    const req = encodeRequest(IPP_OPERATION.getPrinterAttributes, 3, [
      { tag: TAG.charset, name: 'attributes-charset', values: ['utf-8'] },
      { tag: TAG.keyword, name: 'requested-attributes', values: ['printer-state', 'printer-supply'] },
    ]);
    expect([...req.subarray(0, 8)]).toEqual([2, 0, 0, 0x0b, 0, 0, 0, 3]);
    // parse it back with the response decoder (same layout): the status slot holds the operation
    const back = decodeResponse(req);
    expect(back.groups[0]?.attributes.get('requested-attributes')).toEqual(['printer-state', 'printer-supply']);
  });
});

const attrs = (o: Record<string, (string | number)[]>) => new Map(Object.entries(o));

describe('printer attributes → faults, supplies, counters, identity', () => {
  it('state reasons map to canonical codes with the severity of their suffix', () => {
    const faults = faultsFromAttributes(
      attrs({
        'printer-state': [5],
        'printer-state-reasons': [
          'media-jam-error',
          'toner-low-warning',
          'marker-supply-low-report',
          'door-open',
          'spool-area-full',
          'none',
        ],
      }),
    );
    expect(faults.map((f) => [f.code, f.severity])).toEqual([
      ['jam', 'critical'],
      ['toner-low', 'warning'],
      ['door-open', 'critical'],
    ]);
    expect(faultsFromAttributes(attrs({ 'printer-state': [5], 'printer-state-reasons': ['paused'] })).map((f) => f.code)).toEqual([
      'offline',
    ]);
    expect(faultsFromAttributes(attrs({ 'printer-state': [3], 'printer-state-reasons': ['none'] }))).toEqual([]);
  });

  it('printer-supply rows (as ippeveprinter sends them) become supplies with percent', () => {
    const supplies = suppliesFromAttributes(
      attrs({
        'printer-supply': [
          'index=1;class=receptacleThatIsFilled;type=wasteToner;unit=percent;maxcapacity=100;level=25;colorantname=unknown;',
          'index=2;class=supplyThatIsConsumed;type=toner;unit=percent;maxcapacity=100;level=75;colorantname=black;',
        ],
        'printer-supply-description': ['Toner Waste Tank', 'Black \x1b[31mToner'],
      }),
    );
    expect(supplies).toEqual([
      {
        index: '1',
        description: 'Toner Waste Tank',
        class: 'receptacle',
        type: 'wasteToner',
        unit: 'percent',
        max: 100,
        level: 25,
        levelState: 'known',
        percent: 75,
      },
      {
        index: '2',
        description: 'Black \\x1b[31mToner',
        class: 'consumed',
        type: 'toner',
        unit: 'percent',
        max: 100,
        level: 75,
        levelState: 'known',
        percent: 75,
      },
    ]);
  });

  it('marker-levels when there is no printer-supply; −3 is "some remaining"', () => {
    const s = suppliesFromAttributes(
      attrs({ 'marker-names': ['Cyan', 'Waste'], 'marker-levels': [40, -3], 'marker-types': ['toner', 'waste-toner'] }),
    );
    expect(s.map((x) => [x.description, x.class, x.levelState, x.percent])).toEqual([
      ['Cyan', 'consumed', 'known', 40],
      ['Waste', 'receptacle', 'some-remaining', undefined],
    ]);
  });

  it('impressions counters and identity', () => {
    const a = new Map<string, unknown[]>([
      ['printer-impressions-completed', [1234]],
      ['printer-impressions-completed-col', [{ monochrome: [1000], 'full-color': [234] }]],
      ['printer-make-and-model', ['SpikeCo LaserJet Sim']],
      ['printer-device-id', ['MFG:SpikeCo;MDL:LaserJet Sim;SN:X12345;']],
      ['printer-uuid', ['urn:uuid:7df6caa3-d651-33a3-6d5e-59503f17af8a']],
    ]) as Parameters<typeof countersFromAttributes>[0];
    expect(countersFromAttributes(a)).toMatchObject({ total: 1234, mono: 1000, colour: 234, unit: 'impressions' });
    expect(identityFromAttributes(a)).toEqual({ model: 'SpikeCo LaserJet Sim', serial: 'X12345', serialSource: 'printer-device-id SN' });
  });
});

describe('ipp:// to http://', () => {
  it('port 631 unless given, IPv6 literals kept in brackets', async () => {
    const { httpUrlOf } = await import('./ipp-driver.js');
    expect(httpUrlOf('ipp://printer.example/ipp/print')).toBe('http://printer.example:631/ipp/print');
    expect(httpUrlOf('ipp://[fe80::1]/ipp/print')).toBe('http://[fe80::1]:631/ipp/print');
    expect(httpUrlOf('ipps://[2001:db8::5]:8443/ipp/print')).toBe('https://[2001:db8::5]:8443/ipp/print');
    expect(httpUrlOf('ipp://10.0.0.5:8631/ipp/print')).toBe('http://10.0.0.5:8631/ipp/print');
  });
});
