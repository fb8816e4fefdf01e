import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rejectionReason } from './filters';
import { sampleFromTeacher } from './teacher';
import type { Teacher } from './teacher';

const sample = { prompt: '57+75=', answer: '132', language: 'en' };

describe('R1 rejection rules', () => {
  it.each([
    ['correct digit-only reasoning is kept', '<think>7+5=12,5+7+1=13</think><answer>132</answer>', true, null],
    ['a wrong answer is rejected first', '<think>7+5=12</think><answer>131</answer>', false, 'wrong_answer'],
    ['mixed languages', '<think>seven 加 five 是 twelve 进位</think><answer>132</answer>', true, 'mixed_language'],
    ['an over-long paragraph', `<think>${'carry the one '.repeat(200)}</think><answer>132</answer>`, true, 'long_paragraph'],
    ['a code block where none was asked', '<think>```js\n57+75\n```</think><answer>132</answer>', true, 'code_block'],
  ] as const)('%s', async (_name, completion, correct, expected) => {
    expect(await rejectionReason(completion, sample, correct)).toBe(expected);
  });

  it('keeps code blocks for code tasks', async () => {
    const code = '<think>write it</think><answer>```js\nfunction f(){return 1}\n```</answer>';
    expect(await rejectionReason(code, { ...sample, task: 'code' }, true)).toBeNull();
  });
});

describe('sampleFromTeacher', () => {
  const problems = [
    { id: 'a', prompt: '1+1=', answer: '2', task: 'arithmetic', difficulty: 1 },
    { id: 'b', prompt: '2+2=', answer: '4', task: 'arithmetic', difficulty: 1 },
  ];
  /** Answers 2 to everything, counting calls. */
  const teacher = (): Teacher & { calls: number } => {
    const t = {
      calls: 0,
      generate(prompts: readonly string[]) {
        t.calls += prompts.length;
        return prompts.map(() => ({ text: '<think>so</think><answer>2</answer>', truncated: false }));
      },
    };
    return t;
  };

  it('verifies, filters and counts each rule', async () => {
    const res = await sampleFromTeacher(teacher(), problems, { k: 3 });
    expect(res.counts).toMatchObject({ total: 6, kept: 3, wrong_answer: 3 });
    expect(res.kept.every((s) => s.id === 'a')).toBe(true);
  });

  it('appends to JSONL as it goes and does not regenerate what is on disk', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'distill-')), 'samples.jsonl');
    const first = teacher();
    await sampleFromTeacher(first, problems.slice(0, 1), { k: 2, jsonlPath: path });
    expect(first.calls).toBe(2);
    const again = teacher();
    const res = await sampleFromTeacher(again, problems, { k: 2, jsonlPath: path });
    expect(again.calls).toBe(2); // only problem b's two samples
    expect(res.samples).toHaveLength(4);
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(4);
  });
});
