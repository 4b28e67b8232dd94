// Vitest globalSetup of the `hostile` project (next to test/support/servers.ts): hands each
// test file a folder where its afterAll appends "cases tried / refused as expected", and at
// the end of the run prints the suite-wide line
//   hostile: N cases tried, N refused as expected
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Folder of this run's hostile tally (one JSON line per test file). */
    hostileTallyDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-hostile-tally-'));
  project.provide('hostileTallyDir', dir);
  return () => {
    const file = path.join(dir, 'tally.jsonl');
    const rows = fs.existsSync(file)
      ? fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { file: string; tried: number; refused: number })
      : [];
    const tried = rows.reduce((n, r) => n + r.tried, 0);
    const refused = rows.reduce((n, r) => n + r.refused, 0);
    console.log(
      `\nhostile: ${tried} cases tried, ${refused} refused as expected (${rows.map((r) => `${r.file} ${r.refused}/${r.tried}`).join(', ')})`,
    );
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
