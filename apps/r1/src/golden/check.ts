import { compareFixture } from './compare';
import type { Comparison } from './compare';
import { loadFixture } from './fixture';
import { goldenCases } from './cases/index';

/** One fixture's verdict. */
export interface GoldenResult {
  status: 'PASS' | 'FAIL' | 'TODO';
  case: string;
  file: string;
  comparison?: Comparison;
  error?: string;
}

/** Loads a fixture, runs this project's implementation of its case and compares. */
export async function checkFixture(path: string): Promise<GoldenResult> {
  let caseName = '?';
  try {
    const fx = loadFixture(path);
    caseName = fx.case;
    const load = goldenCases[fx.case];
    const runner = load ? (await load()).run : null;
    if (!runner) return { status: 'TODO', case: fx.case, file: path };
    const comparison = compareFixture(fx, await runner(fx));
    return { status: comparison.pass ? 'PASS' : 'FAIL', case: fx.case, file: path, comparison };
  } catch (e) {
    return { status: 'FAIL', case: caseName, file: path, error: (e as Error).stack ?? String(e) };
  }
}

/** The checker's output line: `PASS|FAIL|TODO <case> <file> max_rel_err=<x>` (+ failing tensors). */
export function formatResult(r: GoldenResult): string {
  const err = r.comparison ? r.comparison.maxRelErr.toExponential(2) : 'n/a';
  let line = `${r.status} ${r.case} ${r.file} max_rel_err=${err}`;
  if (r.comparison?.failures.length) line += `\n  failing: ${r.comparison.failures.join(', ')}`;
  if (r.error) line += `\n  error: ${r.error.split('\n').slice(0, 4).join('\n  ')}`;
  return line;
}

