// Issue #6's learning test: from a cold-started tiny model that partly solves 2-digit addition,
// a fixed number of GRPO steps — and, separately, GSPO steps — raise held-out pass@1 by a clear
// margin. Fixed seeds and step counts; nothing here depends on wall-clock time (timings are only
// printed, to size issue #7's demo).
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@r1-ts/tensor-kernels';
import { EVAL, SFT, SPLIT, coldStart, describeRun, heldOut, load, runRl, timed } from './setup';
import type { RlSettings } from './setup';

/**
 * pass@1 points (0–1) RL must add on the held-out problems. Measured on a 2-core machine: see the
 * closing note of issue #6 (2 prompts/step instead of 4 gave GRPO only +10.7, too close to call).
 */
const MARGIN = 0.1;

/** Shared by both algorithms: R1's group size, DAPO dynamic sampling, no KL (β 0), lr ≤ 3e-4 (issue #7's lead). */
const COMMON = { numGenerations: 8, promptsPerStep: 4, learningRate: 3e-4, beta: 0, temperature: 1, dynamicSampling: true, seed: 0, formatWeight: 0.1 } as const;

/** GRPO: token-level ratios, DAPO clip-higher ε 0.2 / 0.28. */
const GRPO: RlSettings = { ...COMMON, steps: 200, epsilonLow: 0.2, epsilonHigh: 0.28 };

/**
 * GSPO: sequence-level ratio with its defaults (ε 3e-4 / 4e-4). μ = 2 passes over each rollout batch:
 * with one pass the ratio is exactly 1 and GSPO's gradient equals GRPO's, so the second pass is where
 * the sequence-level clipping acts.
 */
const GSPO: RlSettings = { ...COMMON, steps: 200, numIterations: 2 };

describe('RL after a cold start raises held-out accuracy (2-digit addition, tiny MLA + MoE model)', () => {
  let dir = '';
  let baseline = 0;

  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
    const sft = await timed(() => coldStart());
    dir = sft.value.dir;
    const { model, tokenizer } = load(dir);
    const base = await timed(() => heldOut(model, tokenizer));
    model.dispose();
    baseline = base.value.passAt1;
    console.log([
      `cold start: ${SFT.steps} steps × batch ${SFT.batchSize} on ${SFT.examples} examples, lr ${SFT.lr}: final loss ${sft.value.loss.toFixed(3)}`,
      `  ${sft.wallS.toFixed(0)} s wall (${(sft.wallS / SFT.steps).toFixed(3)} s/step, cpu ${(sft.cpuS / SFT.steps).toFixed(3)} s/step, ${(sft.value.completionTokens / sft.wallS).toFixed(0)} trained tokens/s)`,
      `  held-out pass@1 ${(100 * baseline).toFixed(1)}% (k ${EVAL.k}, T ${EVAL.temperature}, ${SPLIT.eval.length} problems; ${base.wallS.toFixed(1)} s), format ${(100 * base.value.formatRate).toFixed(1)}%`,
    ].join('\n'));
  });

  afterAll(() => {
    if (dir) rmSync(dirname(dir), { recursive: true, force: true });
  });

  it('the cold-started model partly solves the task: room to improve, and enough signal for RL', () => {
    expect(baseline).toBeGreaterThan(0.05);
    expect(baseline).toBeLessThan(0.7);
  });

  it(`GRPO: ${GRPO.steps} steps raise held-out pass@1 by ≥ ${MARGIN * 100} points`, async () => {
    const r = await runRl('grpo', dir, GRPO);
    console.log(describeRun('GRPO', GRPO, r));
    expect(r.before.passAt1).toBeCloseTo(baseline, 10); // same weights, same eval seed
    expect(r.after.passAt1 - r.before.passAt1).toBeGreaterThanOrEqual(MARGIN);
    expect(r.after.formatRate).toBeGreaterThanOrEqual(0.9);
  });

  it(`GSPO: ${GSPO.steps} steps (μ = 2) raise held-out pass@1 by ≥ ${MARGIN * 100} points`, async () => {
    const r = await runRl('gspo', dir, GSPO);
    console.log(describeRun('GSPO', GSPO, r));
    expect(r.before.passAt1).toBeCloseTo(baseline, 10);
    expect(r.after.passAt1 - r.before.passAt1).toBeGreaterThanOrEqual(MARGIN);
    expect(r.after.formatRate).toBeGreaterThanOrEqual(0.9);
    // The sequence-level clip is active in the second pass (GSPO clips far more than GRPO).
    expect(r.last['clip_ratio/region_mean']).toBeGreaterThan(0);
  });
});
