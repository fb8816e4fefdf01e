// Runs example files one after another in this process (one TensorFlow.js load for all of them) and
// writes { file, ok, ms, error } per example as JSON to the path given first. A backend is
// initialised first (EXAMPLE_BACKEND, default auto). Run with
// `tsx --conditions=@r1-ts/source docs/test/run-examples.ts results.json file1.ts file2.ts ...`.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [resultsPath, ...files] = process.argv.slice(2);
const perExampleMs = Number(process.env.EXAMPLE_TIMEOUT_MS ?? 20_000);
const results: { file: string; ok: boolean; ms: number; error?: string }[] = [];
const save = () => writeFileSync(resultsPath, JSON.stringify(results, null, 1));

// Examples assume a backend is ready, as in a user's program that called initBackend first; one that
// disposes the backend (disposeBackend) must not break the next, so re-initialise when needed.
const { currentBackend, initBackend } = await import('@r1-ts/tensor-kernels');
const backend = (process.env.EXAMPLE_BACKEND ?? 'auto') as 'auto';

const quiet = () => {};
const saved = { log: console.log, info: console.info, warn: console.warn, debug: console.debug };

for (const file of files) {
  const t0 = performance.now();
  // Record the example as started, so a hang that kills the process still names it.
  results.push({ file, ok: false, ms: 0, error: 'did not finish (hung or crashed the process)' });
  save();
  Object.assign(console, { log: quiet, info: quiet, warn: quiet, debug: quiet });
  if (!currentBackend()) await initBackend({ backend, quiet: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      import(pathToFileURL(file).href),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${perExampleMs} ms`)), perExampleMs);
      }),
    ]);
    results[results.length - 1] = { file, ok: true, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    results[results.length - 1] = { file, ok: false, ms: Math.round(performance.now() - t0), error };
  } finally {
    clearTimeout(timer);
    Object.assign(console, saved);
  }
  save();
}
save();
// Backends may hold worker threads open; the results are written, so leave now.
process.exit(0);
