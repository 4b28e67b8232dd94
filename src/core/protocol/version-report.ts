/**
 * version-report (agent → host): the agent's version report text (docs/formats.md), the
 * answer to a version-request. The host parses the text strictly; `softwareVersion`, when
 * sent, must agree with the text's first line (docs/protocol.md). Extra fields are ignored.
 */
import { ParseError, REFUSAL, type RefusalCode } from '../errors.js';
import { parseVersionText } from '../version/version-text.js';
import { type BodyCodec, Decoder } from './decoder.js';

export const VERSION_REPORT = 'version-report';

export interface VersionReportBody {
  softwareVersion: string;
  versionText: string;
}

/** A version-grammar or field-charset breach has its own reason code; any other defect is MALFORMED. */
export function refusalFor(error: ParseError): RefusalCode {
  if (error.code === 'BAD_VERSION') return REFUSAL.BAD_VERSION;
  if (error.code === 'BAD_FIELD') return REFUSAL.BAD_FIELD;
  return REFUSAL.MALFORMED;
}

export function encodeVersionReport(body: VersionReportBody): Record<string, unknown> {
  return { softwareVersion: body.softwareVersion, versionText: body.versionText };
}

/** The report both version-report and update-result carry: the text, and the version it names. */
export function decodeReportFields(b: Record<string, unknown>): VersionReportBody {
  const d: Decoder = new Decoder('report');
  if (typeof b.versionText !== 'string') d.refuse('versionText', 'report carries no versionText');
  let parsed: ReturnType<typeof parseVersionText>;
  try {
    parsed = parseVersionText(b.versionText);
  } catch (error) {
    if (error instanceof ParseError) d.refuse('versionText', `report's ${error.message}`, refusalFor(error));
    throw error;
  }
  if (b.softwareVersion !== undefined && b.softwareVersion !== parsed.softwareVersion) {
    d.refuse('softwareVersion', `report says ${String(b.softwareVersion)} but its version text says ${parsed.softwareVersion}`);
  }
  return { softwareVersion: parsed.softwareVersion, versionText: b.versionText };
}

export function decodeVersionReport(value: unknown): VersionReportBody {
  return decodeReportFields(new Decoder('version report').object(value, 'body'));
}

export const versionReport: BodyCodec<VersionReportBody> = { encode: encodeVersionReport, decode: decodeVersionReport };
