// `npm run bench [-- suite ...]`: runs every suite in bench/suites (or the named ones: a name also selects the suites it prefixes, `train` → `train_lora`) and prints one
// line per figure. Figures only: nothing here is asserted. Long-running soaks (`soak_*`, several
// minutes each; `npm run soak`) run only when named.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'suites');
const wanted = process.argv.slice(2);
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
// A name selects its suite, or every suite it prefixes before an underscore (`train` → `train_lora`).
const selects = (w: string, name: string) => name === w || name.startsWith(`${w}_`);
const unknown = wanted.filter((w) => !all.some((name) => selects(w, name)));
if (unknown.length) {
  console.error(`bench: no suite named ${unknown.map((w) => JSON.stringify(w)).join(', ')}; the suites are ${all.join(', ')}`);
  process.exit(2);
}
const suites = all.filter((name) => (wanted.length === 0 ? !name.startsWith('soak_') : wanted.some((w) => selects(w, name))));
for (const name of suites) {
  console.log(`# suite ${name}`);
  const suite = await import(join(dir, `${name}.ts`));
  await suite.run();
}
