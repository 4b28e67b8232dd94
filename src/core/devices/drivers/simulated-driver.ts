/**
 * The `simulated` driver: printers described in a JSON file that may change while the agent
 * runs (the demo, and tests, rewrite it). The file is re-read on every poll. Format:
 *
 * {
 *   "format": "rds-simulated-devices/1",
 *   "devices": {
 *     "<name>": {                          // a device's config.name, or its id
 *       "model": "Sim LaserJet 4200",
 *       "serial": "SIM-0001",
 *       "status": "running",               // hrDeviceStatus word: running|warning|testing|down|unknown
 *       "reachable": true,                 // false: every poll fails as if the printer were off
 *       "faults": [{ "code": "jam", "subunit": "tray 2" }],   // canonical codes (../types.ts)
 *       "counters": {
 *         "total": 12000, "mono": 9000, "colour": 3000,
 *         "byService": { "print": { "total": 8000, "mono": 6000, "colour": 2000 } },
 *         "byPaperSize": { "iso_a4_210x297mm": { "total": 11000 } },
 *         "wrapAt": 4294967296             // optional: emulate a Counter32
 *       },
 *       "supplies": [{ "description": "Black Toner", "class": "consumed", "type": "toner", "percent": 40 }]
 *     }
 *   }
 * }
 * Write it with writeSimulatedFleetFile (atomic: temp file + rename) so a poll never reads
 * half a file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TransientError } from '../../errors.js';
import { addFigure, emptyFigures, FIELDS } from '../counters/figures.js';
import { FAULT_SEVERITY } from '../faults/faults.js';
import { type CounterSet, type DeviceDriver, type DeviceRecord, FAULT_CODES, type FaultCode, type Supply } from '../types.js';

export const SIMULATED_FORMAT = 'rds-simulated-devices/1';

export interface SimulatedCounters extends CounterSet {
  byService?: Record<string, CounterSet>;
  byPaperSize?: Record<string, CounterSet>;
  wrapAt?: number;
}
export interface SimulatedDevice {
  model: string;
  serial: string;
  status?: string;
  reachable?: boolean;
  faults?: Array<{ code: FaultCode; subunit?: string }>;
  counters?: SimulatedCounters;
  supplies?: Array<Partial<Supply> & { description: string }>;
}
export interface SimulatedFleet {
  format: typeof SIMULATED_FORMAT;
  devices: Record<string, SimulatedDevice>;
}

export function createSimulatedDriver(): DeviceDriver {
  return {
    async pollFaults(device) {
      const sim = await readSimulatedDevice(device);
      return {
        deviceStatus: sim.status ?? 'running',
        printerStatus: 'idle',
        errorState: [],
        alerts: [],
        alertsWalked: true,
        faults: (sim.faults ?? []).map((f) => ({
          code: f.code,
          subunit: f.subunit ?? '',
          severity: FAULT_SEVERITY[f.code],
          source: 'simulated',
        })),
      };
    },
    async readCounters(device) {
      const sim = await readSimulatedDevice(device);
      return { identity: identityOf(sim), figures: figuresOf(sim.counters ?? {}), supplies: suppliesOf(sim) };
    },
    async identify(device) {
      return identityOf(await readSimulatedDevice(device));
    },
  };
}

async function readSimulatedDevice(device: DeviceRecord): Promise<SimulatedDevice> {
  if (device.driver !== 'simulated') throw new TypeError(`device ${device.id} is not a simulated device`);
  const { file, name = device.id } = device.config;
  let fleet: SimulatedFleet;
  try {
    fleet = JSON.parse(await fs.promises.readFile(file, 'utf8')) as SimulatedFleet;
  } catch (error) {
    throw new TransientError('DEVICE_ERROR', `cannot read simulated devices file ${file}: ${(error as Error).message}`, { cause: error });
  }
  const sim = fleet?.devices?.[name];
  if (!sim) throw new TransientError('DEVICE_ERROR', `simulated devices file ${file} has no device "${name}"`);
  for (const fault of sim.faults ?? []) {
    if (!FAULT_CODES.includes(fault.code) || fault.code === 'device-unreachable') {
      throw new TransientError(
        'DEVICE_ERROR',
        `simulated device "${name}": unknown fault code "${fault.code}" (one of ${FAULT_CODES.join(', ')})`,
      );
    }
  }
  if (sim.reachable === false) throw new TransientError('DEVICE_UNREACHABLE', `simulated device "${name}" is unreachable`);
  return sim;
}

const identityOf = (sim: SimulatedDevice) => ({ model: sim.model, serial: sim.serial, serialSource: 'simulated', sysDescr: sim.model });

function figuresOf(counters: SimulatedCounters) {
  const figures = emptyFigures();
  figures.unit = 'impressions';
  const source = (p: string) => ({ profile: 'simulated', oids: [`counters.${p}`], wrapAt: counters.wrapAt });
  for (const field of FIELDS) {
    const v = counters[field];
    if (typeof v === 'number') addFigure(figures, { group: 'top', field }, v, source(field));
  }
  for (const group of ['byService', 'byPaperSize'] as const) {
    for (const [key, set] of Object.entries(counters[group] ?? {})) {
      for (const field of FIELDS) {
        const v = set[field];
        if (typeof v === 'number') addFigure(figures, { group, key, field }, v, source(`${group}.${key}.${field}`));
      }
    }
  }
  if (Object.keys(figures.byPaperSize).length > 0) figures.paperSizeUnit = 'impressions';
  return figures;
}

function suppliesOf(sim: SimulatedDevice): Supply[] {
  return (sim.supplies ?? []).map((s, i) => ({
    index: String(i + 1),
    class: 'consumed',
    type: 'toner',
    levelState: s.percent === undefined ? 'unknown' : 'known',
    ...s,
  }));
}

/** Write a fleet file atomically (temp file in the same folder, then rename). */
export function writeSimulatedFleetFile(file: string, devices: SimulatedFleet | Record<string, SimulatedDevice>): void {
  const fleet: SimulatedFleet =
    'format' in devices && devices.format === SIMULATED_FORMAT
      ? (devices as SimulatedFleet)
      : { format: SIMULATED_FORMAT, devices: devices as Record<string, SimulatedDevice> };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(fleet, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

export function readSimulatedFleetFile(file: string): SimulatedFleet {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as SimulatedFleet;
}

/** Change one device in place (read, update, atomic write): e.g. inject a jam for the demo. */
export function updateSimulatedDevice(file: string, name: string, update: (device: SimulatedDevice) => SimulatedDevice): void {
  const fleet = readSimulatedFleetFile(file);
  const device = fleet.devices[name];
  if (!device) throw new Error(`simulated devices file ${file} has no device "${name}"`);
  fleet.devices[name] = update(structuredClone(device));
  writeSimulatedFleetFile(file, fleet);
}

/** A plausible printer for demos and tests; `n` makes serial and counters distinct. */
export function makeSimulatedPrinter(n: number, overrides: Partial<SimulatedDevice> = {}): SimulatedDevice {
  const colour = n % 2 === 0;
  const mono = 10_000 + n * 137;
  const col = colour ? 2_000 + n * 41 : 0;
  return {
    model: colour ? 'Sim ColorMFP 3570' : 'Sim LaserMono 2710',
    serial: `SIM-${String(n).padStart(4, '0')}`,
    status: 'running',
    reachable: true,
    faults: [],
    counters: {
      total: mono + col,
      mono,
      colour: col,
      byService: { print: { total: Math.round((mono + col) * 0.7) }, copy: { total: mono + col - Math.round((mono + col) * 0.7) } },
      byPaperSize: {
        iso_a4_210x297mm: { total: Math.round((mono + col) * 0.9) },
        iso_a3_297x420mm: { total: mono + col - Math.round((mono + col) * 0.9) },
      },
    },
    ...overrides,
  };
}
