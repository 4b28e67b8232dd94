// `node --import ./record-imports.mjs …`: append every module specifier the program resolves
// (and what it resolved to) to the file $RDS_IMPORT_LOG, one per line. For the test that
// `rds --version` and `rds --help` load nothing heavy.
import { register } from 'node:module';

const hooks = `
import fs from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  fs.appendFileSync(process.env.RDS_IMPORT_LOG, specifier + ' ' + resolved.url + '\\n');
  return resolved;
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, import.meta.url);
