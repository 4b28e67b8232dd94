export interface GlobalOptions {
  config?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export interface CommandResult {
  /** exit code (SPEC §2); 0 when absent */
  exitCode?: number;
  /** the JSON document for --json */
  data?: unknown;
  /** what a person reads on stdout */
  text?: string;
}
