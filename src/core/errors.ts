/**
 * One error table for the whole product. Each error carries a stable code (for tests,
 * logs and quarantine records) and the exit code it maps to (docs/commands.md#exit-codes). Only the top of
 * the CLI turns these into exit codes; core code throws them.
 */
export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  TRANSIENT: 3,
  SECURITY: 4,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface RdsErrorOptions {
  cause?: unknown;
  /** Extra machine-readable facts (never secrets). */
  details?: Record<string, unknown>;
}

export class RdsError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly details?: Record<string, unknown>;
  constructor(code: string, message: string, exitCode: ExitCode, options: RdsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.details = options.details;
  }
}

/** Bad flags, bad config, a command of the other role: exit 2. */
export class UsageError extends RdsError {
  constructor(code: string, message: string, options?: RdsErrorOptions) {
    super(code, message, EXIT.USAGE, options);
  }
}

/** A mail server or a device could not be reached; nothing was lost: exit 3. */
export class TransientError extends RdsError {
  constructor(code: string, message: string, options?: RdsErrorOptions) {
    super(code, message, EXIT.TRANSIENT, options);
  }
}

/**
 * Refused for security (bad signature, wrong sender, replay, expired, tampered package,
 * downgrade): exit 4. `code` is the distinct reason code recorded with quarantined mail.
 */
export class SecurityError extends RdsError {
  constructor(code: RefusalCode, message: string, options?: RdsErrorOptions) {
    super(code, message, EXIT.SECURITY, options);
  }
}

/** The work was done but something failed (install script, some agents): exit 1. */
export class FailedError extends RdsError {
  constructor(code: string, message: string, options?: RdsErrorOptions) {
    super(code, message, EXIT.FAILED, options);
  }
}

/** A malformed input document (version text, manifest, config): exit 2 unless wrapped. */
export class ParseError extends RdsError {
  readonly line?: number;
  constructor(code: string, message: string, options: RdsErrorOptions & { line?: number } = {}) {
    super(code, message, EXIT.USAGE, options);
    this.line = options.line;
  }
}

/**
 * Every reason a message or package is refused. Each is distinct so that an operator (and
 * the hostile-input suite) can tell exactly which check stopped it.
 */
export const REFUSAL = {
  // message envelope and payload (docs/protocol.md#quarantine)
  SENDER_MISMATCH: 'SENDER_MISMATCH', // From is not the configured host / registered agent address
  UNKNOWN_SENDER: 'UNKNOWN_SENDER', // host side: From/sender id is not a registered agent
  NOT_SIGNED: 'NOT_SIGNED', // no signed payload in the mail
  BAD_SIGNATURE: 'BAD_SIGNATURE', // signature does not verify (tampered)
  UNKNOWN_KEY: 'UNKNOWN_KEY', // signed, but by a key that is not the pinned/registered one
  NOT_FOR_ME: 'NOT_FOR_ME', // recipients do not include this node
  EXPIRED: 'EXPIRED', // expiresAt is in the past
  FROM_FUTURE: 'FROM_FUTURE', // issuedAt beyond the clock-skew allowance
  REPLAYED: 'REPLAYED', // id processed before
  MALFORMED: 'MALFORMED', // payload is not valid JSON / misses fields
  BAD_VERSION: 'BAD_VERSION', // a version that breaks the grammar (N.N.NN + printable ASCII, no controls)
  BAD_FIELD: 'BAD_FIELD', // an id, code, name or text outside its charset or length limit
  UNKNOWN_TYPE: 'UNKNOWN_TYPE', // a type no handler knows
  UNSUPPORTED_FORMAT: 'UNSUPPORTED_FORMAT', // format version from the future
  OVERSIZE: 'OVERSIZE', // mail larger than the configured maximum
  MALFORMED_MAIL: 'MALFORMED_MAIL', // MIME that cannot be parsed within limits
  SENDER_ID_MISMATCH: 'SENDER_ID_MISMATCH', // payload's sender id does not match the mail's sender
  // update packages (docs/install.md#admission)
  PACKAGE_NOT_FOR_ME: 'PACKAGE_NOT_FOR_ME', // no session key wrapped for this agent
  PACKAGE_TAMPERED: 'PACKAGE_TAMPERED', // integrity (MDC) or decryption failure
  PACKAGE_UNSAFE_PATH: 'PACKAGE_UNSAFE_PATH', // `..`, absolute path, link escaping the stage
  PACKAGE_UNSAFE_ENTRY: 'PACKAGE_UNSAFE_ENTRY', // device file, fifo, hardlink, unknown type
  PACKAGE_DUPLICATE_ENTRY: 'PACKAGE_DUPLICATE_ENTRY',
  PACKAGE_HASH_MISMATCH: 'PACKAGE_HASH_MISMATCH',
  PACKAGE_MANIFEST_INVALID: 'PACKAGE_MANIFEST_INVALID',
  PACKAGE_TOO_LARGE: 'PACKAGE_TOO_LARGE', // size or ratio limit (decompression bomb)
  PACKAGE_TRUNCATED: 'PACKAGE_TRUNCATED',
  PACKAGE_MISMATCH: 'PACKAGE_MISMATCH', // package does not match the command that carried it
  DOWNGRADE_REFUSED: 'DOWNGRADE_REFUSED',
  // update parts (docs/protocol.md#update-parts)
  PART_HASH_MISMATCH: 'PART_HASH_MISMATCH', // a part's bytes do not match its signed sha256 / the signed part list
  PART_OUT_OF_RANGE: 'PART_OUT_OF_RANGE', // part number outside 1..N
  TOO_MANY_PARTS: 'TOO_MANY_PARTS', // N beyond the wire limit or the agent's parts.maxParts
  PART_LIST_MISMATCH: 'PART_LIST_MISMATCH', // part 1's list of hashes does not fit N or part 1, or disagrees with a stored part
  REASSEMBLY_FULL: 'REASSEMBLY_FULL', // the agent already holds parts.maxPackages packages in reassembly
  AUDIT_TAMPERED: 'AUDIT_TAMPERED', // the audit trail fails its hash chain or a checkpoint signature (docs/audit.md)
} as const;
export type RefusalCode = (typeof REFUSAL)[keyof typeof REFUSAL];

/**
 * A full disk (or quota) while the agent writes its stage is no fault of the package and no
 * bug: a clear transient error (exit 3; an update mail stays in INBOX for the next pass),
 * instead of an uncaught ENOSPC with a stack trace, or a "tampered package" refusal.
 */
export function diskFullError(error: unknown, dir: string): TransientError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return undefined;
  return new TransientError(
    'DISK_FULL',
    `no space left on the device of ${dir} (${code}) while unpacking the update; nothing was installed, free some space and try again`,
    { cause: error },
  );
}

export function isRdsError(error: unknown): error is RdsError {
  return error instanceof RdsError;
}
