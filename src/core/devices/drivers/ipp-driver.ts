/**
 * The IPP driver (`--driver ipp --address ipp://host:631/ipp/print`): one
 * Get-Printer-Attributes request per pass over HTTP (RFC 8010 §4: ipp:// is http:// on
 * port 631, ipps:// is https:// with the certificate verified), decoded by ipp-codec.ts and
 * mapped by ipp-decode.ts. The answer is bounded in size and time; a printer that does not
 * answer is DEVICE_UNREACHABLE, one that answers nonsense DEVICE_ERROR (both exit 3).
 */
import { TransientError } from '../../errors.js';
import { createLimiter } from '../limit.js';
import type { DeviceDriver, DeviceRecord, IppDeviceConfig } from '../types.js';
import { decodeResponse, encodeRequest, IPP_OPERATION, IppParseError, printerAttributes, TAG } from './ipp-codec.js';
import {
  countersFromAttributes,
  faultsFromAttributes,
  type IppAttributes,
  identityFromAttributes,
  printerState,
  suppliesFromAttributes,
} from './ipp-decode.js';

const MAX_RESPONSE = 1024 * 1024;
const FAULT_ATTRIBUTES = ['printer-state', 'printer-state-reasons', 'printer-state-message'];
const COUNTER_ATTRIBUTES = [
  'printer-make-and-model',
  'printer-info',
  'printer-uuid',
  'printer-device-id',
  'printer-impressions-completed',
  'printer-impressions-completed-col',
  'printer-supply',
  'printer-supply-description',
  'marker-names',
  'marker-levels',
  'marker-types',
];

let requestIds = 0;

/** `ipp://host[:port]/path` → the HTTP URL it is reached at. */
export function httpUrlOf(ipp: string): string {
  const url = new URL(ipp);
  const secure = url.protocol === 'ipps:';
  // url.hostname keeps an IPv6 literal's brackets; the port is 631 unless given
  return `${secure ? 'https' : 'http'}://${url.port ? url.host : `${url.hostname}:631`}${url.pathname}${url.search}`;
}

export async function getPrinterAttributes(config: IppDeviceConfig, names: string[]): Promise<IppAttributes> {
  const where = config.url;
  requestIds = (requestIds % 0x7fffffff) + 1;
  const body = encodeRequest(IPP_OPERATION.getPrinterAttributes, requestIds, [
    { tag: TAG.charset, name: 'attributes-charset', values: ['utf-8'] },
    { tag: TAG.naturalLanguage, name: 'attributes-natural-language', values: ['en'] },
    { tag: TAG.uri, name: 'printer-uri', values: [config.url] },
    { tag: TAG.keyword, name: 'requested-attributes', values: names },
  ]);
  let response: Response;
  try {
    response = await fetch(httpUrlOf(config.url), {
      method: 'POST',
      headers: { 'content-type': 'application/ipp' },
      body,
      signal: AbortSignal.timeout(config.timeoutMs ?? 5000),
      redirect: 'error',
    });
  } catch (error) {
    throw new TransientError('DEVICE_UNREACHABLE', `no IPP answer from ${where}`, { cause: error });
  }
  if (!response.ok) throw new TransientError('DEVICE_ERROR', `IPP request to ${where} failed: HTTP ${response.status}`);
  let bytes: Buffer;
  try {
    bytes = await readBounded(response, where);
  } catch (error) {
    if (error instanceof TransientError) throw error;
    // a printer that stops sending half way (timeout, reset)
    throw new TransientError('DEVICE_UNREACHABLE', `IPP answer from ${where} was cut off`, { cause: error });
  }
  try {
    const decoded = decodeResponse(bytes);
    if (decoded.statusCode >= 0x0400) {
      throw new TransientError(
        'DEVICE_ERROR',
        `IPP request to ${where} failed: status 0x${decoded.statusCode.toString(16).padStart(4, '0')}`,
      );
    }
    return printerAttributes(decoded);
  } catch (error) {
    if (error instanceof IppParseError)
      throw new TransientError('DEVICE_ERROR', `IPP answer from ${where} is malformed: ${error.message}`, { cause: error });
    throw error;
  }
}

async function readBounded(response: Response, where: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (!response.body) return Buffer.alloc(0);
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_RESPONSE) throw new TransientError('DEVICE_ERROR', `IPP answer from ${where} is larger than ${MAX_RESPONSE} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

export function createIppDriver(options: { maxConcurrent?: number } = {}): DeviceDriver {
  const limiter = createLimiter(options.maxConcurrent ?? 32);
  const get = (device: DeviceRecord, names: string[]) => limiter.run(() => getPrinterAttributes(ippConfig(device), names));
  return {
    pollFaults: async (device) => {
      const attrs = await get(device, FAULT_ATTRIBUTES);
      const state = printerState(attrs);
      return {
        ...(state ? { printerStatus: state } : {}),
        errorState: [],
        alerts: [],
        alertsWalked: false,
        faults: faultsFromAttributes(attrs),
      };
    },
    readCounters: async (device) => {
      const attrs = await get(device, COUNTER_ATTRIBUTES);
      return { identity: identityFromAttributes(attrs), figures: countersFromAttributes(attrs), supplies: suppliesFromAttributes(attrs) };
    },
    identify: async (device) => identityFromAttributes(await get(device, COUNTER_ATTRIBUTES)),
  };
}

function ippConfig(device: DeviceRecord): IppDeviceConfig {
  if (device.driver !== 'ipp') throw new TypeError(`device ${device.id} is not an IPP device`);
  return device.config;
}
