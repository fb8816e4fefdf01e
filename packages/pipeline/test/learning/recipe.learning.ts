// Issue #24's learning test: the demo recipe, reduced (no R1-Zero run: 0 steps), for two seeds; R1's
// findings 2 (reasoning RL beats the cold start by ≥ 10 points) and 4 (the distilled student beats the
// same student trained with RL alone by ≥ 20 points) must hold on *each* seed, on whatever kernels this
// machine runs (BLAS or not, C loops or not): the recipe may not depend on one float32 rounding.
// Fixed seeds and step counts; nothing depends on wall-clock time (timings are only printed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { currentGemm, nativeKernels } from '@r1-ts/tensor-kernels';
import { recipeFindings, resolveRecipeConfig, runRecipe } from '../../src/index';
import { timed } from './setup';

const SEEDS = [0, 1];
/** The demo preset less R1-Zero (not under test here; `npm run bench:recipe` runs it). */
const REDUCED = { r1Zero: { steps: 0 } };

describe('the demo recipe shows R1 findings 2 and 4 on every seed', () => {
  const root = mkdtempSync(join(tmpdir(), 'r1-recipe-learning-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  for (const seed of SEEDS) {
    it(`seed ${seed}`, async () => {
      const cfg = resolveRecipeConfig('demo', REDUCED, { seed });
      const run = await timed(() => runRecipe(cfg, { out: join(root, `seed${seed}`) }));
      const g = currentGemm();
      const findings = recipeFindings(run.value.eval);
      console.log([
        `seed ${seed} (${g.name === 'blas' ? `BLAS ${g.core}` : 'tfjs GEMM'}, ${nativeKernels() ? 'C loops' : 'JS loops'}): ${run.wallS.toFixed(0)} s wall, ${run.cpuS.toFixed(0)} s cpu`,
        ...Object.entries(run.value.eval).map(([s, e]) => `  ${s.padEnd(14)} pass@1 ${(100 * e.passAt1).toFixed(1)}% (±${(100 * (e.passAt1Se ?? 0)).toFixed(1)}), format ${(100 * e.formatRate).toFixed(1)}%`),
        ...findings.map((f) => `  ${f.holds ? '✓' : '✗'} ${f.id}. ${f.claim}: ${f.detail}`),
      ].join('\n'));
      for (const id of [2, 4]) {
        const f = findings.find((x) => x.id === id)!;
        expect(f.holds, `seed ${seed}, finding ${id}: ${f.claim} (${f.detail})`).toBe(true);
      }
    });
  }
});
