/** One line of `rds doctor`: what was checked, whether it passed, what was seen, and the fix. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

export const pass = (name: string, detail: string): Check => ({ name, ok: true, detail });
export const fail = (name: string, detail: string, fix: string): Check => ({ name, ok: false, detail, fix });
