/** What every act of the demo story shares: the input, the nodes, the tables, and small helpers. */
import path from 'node:path';
import type { GlobalOptions } from '../types.js';

export interface StoryInput {
  root: string;
  mailRoot: string;
  smtpPort: number;
  count: number;
  customers: string[];
  say: (title: string) => (line: string) => void;
  globals: GlobalOptions;
  /** where the fleet report goes (the --keep folder, else the current folder) */
  reportFile: string;
}

export interface Node {
  id: string;
  address: string;
  dir: string;
  config: string;
}

export type Agent = Node & { note: string; printers: string[] };

/** The data behind the demo's tables, for `demo --json`. */
export interface DemoTables {
  faults?: unknown;
  counters?: unknown;
  verify?: unknown;
  supplies?: unknown;
  silent?: unknown;
  alerts?: unknown;
  rollout?: unknown;
  /** the fleet report's file */
  report?: string;
}

/** The fleet the acts play on, built by the first act. */
export interface Fleet {
  input: StoryInput;
  host: Node;
  agents: Agent[];
  printersFile: string;
  /** index of the agent whose install script fails (its disk is full) */
  failing: number;
  /** index of the agent that never reads its mail */
  offline: number;
  tables: DemoTables;
  /** the command line behind a step, to replay it in the --keep folder (`$ ` marks it) */
  shell: (node: Node, args: string, note?: string) => string;
}

export const TARGET = '1.0.02-0';
export const DESK = 'desk@rds-center.example';
export const DAY_MS = 86_400_000;
export const TONER = (percent: number) => ({ description: 'Black Toner', type: 'toner', class: 'consumed' as const, percent });

/** A UUID (message or package id): noise in a human line; `--json` keeps the ids. */
const UUID = / ?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
export const human = (text: unknown) => String(text).replace(UUID, '');

export function shellFor(root: string): Fleet['shell'] {
  return (node, args, note = '') => `$ rds --config ${path.relative(root, node.config)} ${args}${note ? `   # ${note}` : ''}`;
}

/** The agent at an index the story computed (always inside the fleet). */
export const at = (fleet: Fleet, i: number): Agent => fleet.agents[i] as Agent;
