import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  arithmeticTask, codeTask, coldStartExamples, countdownTask, datasetRow, generalTask, generateSamples, linearEquationTask, loadDataset,
  loadJsonl, makeSplit, preferencePairs, syntheticFacts, TaskConfigError, verifyCountdown,
} from './index.js';

async function rejection(f: () => unknown): Promise<TaskConfigError> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(TaskConfigError);
    return e as TaskConfigError;
  }
  throw new Error('expected a TaskConfigError, nothing was thrown');
}

describe('unknown option keys', () => {
  it('a misspelt key throws naming it, the key it meant and the accepted keys', async () => {
    const e = await rejection(() => arithmeticTask({ digit: 2 } as never));
    expect(e.fields).toEqual(['digit']);
    expect(e.message).toBe('arithmeticTask options: unknown key "digit" (did you mean "digits"?); accepted: digits, ops, promptStyle');
    expect((await rejection(() => arithmeticTask({ PromptStyle: 'bare' } as never))).message).toContain('did you mean "promptStyle"?');
  });

  it('several unknown keys are all named; a foreign key gets no guess', async () => {
    const e = await rejection(() => countdownTask({ maxNumbr: 9, level: 2 } as never));
    expect(e.fields).toEqual(['maxNumbr', 'level']);
    expect(e.message).toContain('"maxNumbr" (did you mean "maxNumber"?), "level";');
    expect(e.message).not.toContain('"level" (did you mean');
  });

  it('every option bag of the package is checked', async () => {
    const gen = arithmeticTask({ digits: 1 });
    const cases: [string, () => unknown][] = [
      ['linearEquationTask', () => linearEquationTask({ dificulty: 2 } as never)],
      ['codeTask', () => codeTask({ test: 3 } as never)],
      ['generalTask', () => generalTask({ kind: ['echo'] } as never)],
      ['preferencePairs', () => preferencePairs({ seed: 1, count: 2, factseed: 3 } as never)],
      ['makeSplit', () => makeSplit(gen, { seed: 1, train: 2, eval: 2, evaluation: 3 } as never)],
      ['verifyCountdown', () => verifyCountdown('1+2', [1, 2], 3, { useall: true } as never)],
      ['syntheticFacts', () => syntheticFacts({ count: 4 } as never)],
      ['generateSamples', () => generateSamples(gen, { seed: 1, count: 2, n: 3 } as never)],
      ['coldStartExamples', () => coldStartExamples(gen, { seed: 1, count: 2, verbose: true } as never)],
      ['loadJsonl', () => loadJsonl('/nonexistent.jsonl', z.object({}), { maxLineByte: 10 } as never)],
      ['loadDataset', () => loadDataset('/nonexistent.jsonl', { prompt_column: 'q' } as never)],
      ['datasetRow', () => datasetRow({ promptCol: 'q' } as never)],
    ];
    for (const [where, f] of cases) expect((await rejection(f)).message, where).toMatch(new RegExp(`^${where} options: unknown key`));
  });

  it('valid bags still work, and keys set to undefined are ignored', async () => {
    const gen = arithmeticTask({ digits: 2, ops: ['+'], promptStyle: undefined });
    const split = makeSplit(gen, { seed: 3, train: 4, eval: 2 });
    expect([split.train.length, split.eval.length]).toEqual([4, 2]);
    expect(verifyCountdown('1+2', [1, 2], 3, { useAll: true }).valid).toBe(true);
    expect(coldStartExamples(gen, { seed: 1, count: 2, verbosity: 'explained' })).toHaveLength(2);
    const dir = await mkdtemp(join(tmpdir(), 'tasks-options-'));
    try {
      const file = join(dir, 'qa.jsonl');
      await writeFile(file, '{"q":"What is 2+2?","a":4}\n');
      const [s] = await loadDataset(file, { promptColumn: 'q', answerColumn: 'a', limit: 1 });
      expect([s.prompt, s.answer]).toEqual(['What is 2+2?', '4']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
