// `npm run bench [-- suite ...]`: runs every suite in bench/suites (or the named ones) and prints one
// line per figure. Figures only: nothing here is asserted. Long-running soaks (`soak_*`, several
// minutes each; `npm run soak`) run only when named.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'suites');
const wanted = process.argv.slice(2);
const suites = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.replace(/\.ts$/, ''))
  .filter((name) => (wanted.length === 0 ? !name.startsWith('soak_') : wanted.includes(name)))
  .sort();
for (const name of suites) {
  console.log(`# suite ${name}`);
  const suite = await import(join(dir, `${name}.ts`));
  await suite.run();
}
