/** The tables and times of command output live in src/core/text/table.ts; commands import them from here too. */
export * from '../core/text/table.js';
