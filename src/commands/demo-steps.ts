import { writeStdout, writeText } from './output.js';

/** One step of `rds demo`'s story, as --json lists it. */
export interface Step {
  title: string;
  lines: string[];
  /** the `rds` command lines shown in this step (the lines starting with `$ `) */
  commands: string[];
}

/**
 * The demo's narrator: `say(title)` starts a step and gives the function that adds its lines;
 * `live`: each is printed as it comes (not with --json or --quiet), and all are kept for --json.
 */
export function stepRecorder(live: boolean): { steps: Step[]; say: (title: string) => (line: string) => void } {
  const steps: Step[] = [];
  const say = (title: string) => {
    const step: Step = { title, lines: [], commands: [] };
    steps.push(step);
    if (live) writeStdout(`\n== ${title} ==\n`);
    return (line: string) => {
      step.lines.push(line);
      if (line.startsWith('$ ')) step.commands.push(line.slice(2));
      if (live) writeText(line);
    };
  };
  return { steps, say };
}
