/**
 * The config file (docs/state.md#config), one per node, checked by validate.ts against this JSON
 * schema. Paths are absolute (written by `rds init`). Secrets may instead come from the
 * environment (RDS_SMTP_PASSWORD, RDS_IMAP_PASSWORD, RDS_KEY_PASSPHRASE) or from files
 * named here.
 */
export interface CommonConfig {
  role: 'agent' | 'host';
  id: string;
  address: string;
  smtp: string;
  imap: string;
  stateDir: string;
  keyFile: string;
  tlsCa?: string;
  smtpPasswordFile?: string;
  imapPasswordFile?: string;
  keyPassphraseFile?: string;
  maxMessageSize: number;
  /** how long commands we send stay valid */
  messageTtl: string;
  /** allowance for clocks that disagree */
  clockSkew: string;
  processedFolder: string;
  quarantineFolder: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export interface AgentConfig extends CommonConfig {
  role: 'agent';
  hostId: string;
  hostAddress: string;
  hostKeyFile: string;
  installRoot: string;
  ackWindow: string;
  /** how often watch-faults sends a heartbeat (docs/service.md) */
  heartbeatInterval?: string;
  /** "HH:MM-HH:MM" local time when updates may install (docs/install.md#install-window); absent: any time */
  installWindow?: string;
  /** update parts in reassembly (docs/install.md#update-parts); each key has a default */
  parts?: PartsConfig;
}

export interface PartsConfig {
  maxParts?: number;
  maxTotalBytes?: number;
  maxPackages?: number;
  deadline?: string;
  requestMissingAfter?: string;
  maxRequests?: number;
  /** host: how many parts-requests it answers per agent and rollout (default 3) */
  maxResends?: number;
}

export interface HostConfig extends CommonConfig {
  role: 'host';
  /** supply thresholds, silence limits, alert routes (docs/service.md; checked by core/service/settings.ts) */
  service?: unknown;
  /** where the host's state lives: absent or `sqlite` (the state dir), or `postgres://USER@HOST:PORT/DB` (docs/deployment.md#postgresql) */
  store?: string;
  /** the PostgreSQL password, when RDS_STORE_PASSWORD is not set */
  storePasswordFile?: string;
  /** update parts (docs/protocol.md#update-parts): `maxResends` */
  parts?: Pick<PartsConfig, 'maxResends'>;
}

export type RdsConfig = AgentConfig | HostConfig;

const str = { type: 'string', minLength: 1 } as const;
const duration = { type: 'string', pattern: '^\\d+(\\.\\d+)?(ms|s|m|h|d)$' } as const;

export const CONFIG_PROPERTIES = {
  role: { type: 'string', enum: ['agent', 'host'] },
  id: { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,128}$' },
  address: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$' },
  smtp: { type: 'string', pattern: '^(smtps?|maildir)://' },
  imap: { type: 'string', pattern: '^(imaps?|pop3s?|maildir)://' },
  stateDir: str,
  keyFile: str,
  tlsCa: str,
  smtpPasswordFile: str,
  imapPasswordFile: str,
  keyPassphraseFile: str,
  maxMessageSize: { type: 'integer', minimum: 1024, default: 10_240_000 }, // Postfix's message_size_limit default (EHLO SIZE 10240000),
  messageTtl: { ...duration, default: '7d' },
  clockSkew: { ...duration, default: '5m' },
  processedFolder: { type: 'string', minLength: 1, default: 'rds-processed' },
  quarantineFolder: { type: 'string', minLength: 1, default: 'rds-quarantine' },
  logLevel: { type: 'string', enum: ['debug', 'info', 'warn', 'error'], default: 'info' },
  hostId: { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,128}$' },
  hostAddress: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$' },
  hostKeyFile: str,
  installRoot: str,
  ackWindow: { ...duration, default: '30m' },
  heartbeatInterval: duration,
  installWindow: { type: 'string' }, // its form is checked by core/install/window.ts, naming the value
  service: { type: 'object' },
  store: { type: 'string', pattern: '^(sqlite|postgres(ql)?://.+)$' },
  storePasswordFile: str,
  parts: {
    type: 'object',
    additionalProperties: false,
    properties: {
      maxParts: { type: 'integer', minimum: 1, maximum: 10_000 },
      maxTotalBytes: { type: 'integer', minimum: 1 },
      maxPackages: { type: 'integer', minimum: 1 },
      deadline: duration,
      requestMissingAfter: duration,
      maxRequests: { type: 'integer', minimum: 0 },
      maxResends: { type: 'integer', minimum: 0 },
    },
  },
} as const;

export const COMMON_REQUIRED = ['role', 'id', 'address', 'smtp', 'imap', 'stateDir', 'keyFile'];
export const AGENT_REQUIRED = ['hostId', 'hostAddress', 'hostKeyFile', 'installRoot'];
