import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { meanSdMin, passAt1StandardError, recipeFindings } from './findings';
import type { EvalResult } from './evaluate';
import { renderReport } from './report';

const e = (passAt1: number, formatRate = 1): EvalResult => ({ passAt1, consAtK: 0, formatRate, meanLength: 0, problems: 100, k: 4, examples: [] });
const FIXTURE = new URL('../test/fixtures/run-sample', import.meta.url).pathname;

describe('recipeFindings', () => {
  const good = { pretrain: e(0.01), 'cold-start': e(0.2), 'reasoning-rl': e(0.3), 'rl-all': e(0.3), distill: e(0.25), 'student-rl': e(0.05) };

  it('holds at the margins (≥ 10 and ≥ 20 points, final ≥ RL, format ≥ 95%)', () => {
    expect(recipeFindings(good).map((f) => f.holds)).toEqual([true, true, true, true, true]);
  });

  it('marks each finding that fails, and only that one', () => {
    const cases: [Partial<Record<string, EvalResult>>, number][] = [
      [{ 'cold-start': e(0.01) }, 1],
      [{ 'reasoning-rl': e(0.29) }, 2], // +9 points only (rl-all follows it down so finding 3 still holds)
      [{ 'rl-all': e(0.29) }, 3],
      [{ distill: e(0.24) }, 4],
      [{ 'reasoning-rl': e(0.3, 0.94) }, 5],
    ];
    for (const [change, id] of cases) {
      const evals = { ...good, ...change } as Record<string, EvalResult>;
      if (id === 2) evals['rl-all'] = e(0.29);
      const failed = recipeFindings(evals).filter((f) => f.holds === false).map((f) => f.id);
      expect(failed, `case ${id}`).toEqual([id]);
    }
  });

  it('is n/a (null), not false, for a stage that was not evaluated', () => {
    const { distill: _, ...rest } = good;
    expect(recipeFindings(rest)[3].holds).toBeNull();
  });
});

describe('meanSdMin and passAt1StandardError', () => {
  it('sample sd (n − 1), min; SE = sd/√n', () => {
    const s = meanSdMin([1, 2, 3, 4]);
    expect(s.mean).toBe(2.5);
    expect(s.sd).toBeCloseTo(Math.sqrt(5 / 3), 12); // (2.25+0.25+0.25+2.25)/3
    expect(s.min).toBe(1);
    expect(passAt1StandardError([0, 1, 0, 1])).toBeCloseTo(Math.sqrt(1 / 3) / 2, 12);
  });
});

describe('report marks the findings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'r1-findings-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists each finding and marks one that did not hold', async () => {
    cpSync(FIXTURE, dir, { recursive: true });
    const evals = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8'));
    evals['rl-all'].passAt1 = 0.5; // below reasoning-rl's 0.6125
    writeFileSync(join(dir, 'eval.json'), JSON.stringify(evals));
    const html = await renderReport(dir);
    const list = /<ol id="findings">([\s\S]*?)<\/ol>/.exec(html)?.[1] ?? '';
    expect(list.match(/<li /g)).toHaveLength(5);
    expect(list).toMatch(/<li data-finding="3" class="miss"><strong>did not hold<\/strong>/);
    expect(list.match(/class="miss"/g)).toHaveLength(1);
  });
});
