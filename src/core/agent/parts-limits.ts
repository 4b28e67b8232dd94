/**
 * The agent's limits on update parts in reassembly (docs/install.md#update-parts): config
 * `parts.*`, each with its default; `poll-mail --request-missing-after` overrides one.
 */
import type { AgentConfig } from '../config/schema.js';
import { parseDuration } from '../duration.js';

export interface PartsLimits {
  maxParts: number;
  maxTotalBytes: number;
  maxPackages: number;
  deadlineMs: number;
  requestMissingAfterMs: number;
  maxRequests: number;
}

export const PARTS_DEFAULTS = {
  maxParts: 2_000,
  maxTotalBytes: 2 * 1024 ** 3,
  maxPackages: 2,
  deadline: '7d',
  requestMissingAfter: '30m',
  maxRequests: 3,
} as const;

export function partsLimits(config: Pick<AgentConfig, 'parts'>, requestMissingAfter?: string): PartsLimits {
  const p = config.parts ?? {};
  return {
    maxParts: p.maxParts ?? PARTS_DEFAULTS.maxParts,
    maxTotalBytes: p.maxTotalBytes ?? PARTS_DEFAULTS.maxTotalBytes,
    maxPackages: p.maxPackages ?? PARTS_DEFAULTS.maxPackages,
    deadlineMs: parseDuration(p.deadline ?? PARTS_DEFAULTS.deadline, 'config parts.deadline'),
    requestMissingAfterMs: parseDuration(
      requestMissingAfter ?? p.requestMissingAfter ?? PARTS_DEFAULTS.requestMissingAfter,
      requestMissingAfter ? '--request-missing-after' : 'config parts.requestMissingAfter',
    ),
    maxRequests: p.maxRequests ?? PARTS_DEFAULTS.maxRequests,
  };
}
