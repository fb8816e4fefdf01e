import { describe, expect, it } from 'vitest';
import { taskAlphabet } from './alphabet.js';
import { arithmeticTask } from './arithmetic.js';
import { coldStartExamples } from './generate.js';
import { parseR1Completion, r1Completion, R1_TAGS } from './r1-format.js';
import { TaskRng } from './rng.js';

describe('R1 format helpers', () => {
  it('wraps and parses', () => {
    expect(r1Completion('a', 'b')).toBe('<think>a</think><answer>b</answer>');
    expect(parseR1Completion('<think>x\ny</think><answer>4</answer>')).toEqual({ think: 'x\ny', answer: '4' });
    expect(parseR1Completion('<think>x</think> <answer>4</answer>')).toBeNull();
    expect(parseR1Completion('<think>x<think></think><answer>4</answer>')).toBeNull();
    expect(parseR1Completion('<answer>4</answer>')).toBeNull();
  });

  it('taskAlphabet: the bare addition task needs 13 characters plus the 4 tags', () => {
    const ex = coldStartExamples(arithmeticTask({ digits: 3, promptStyle: 'bare' }), { seed: 0, count: 300 });
    expect(taskAlphabet(ex.flatMap((e) => [e.prompt, e.completion])).join('')).toBe('+,0123456789=');
    expect(taskAlphabet(['<think>ab</think>', 'b<c'])).toEqual(['<', 'a', 'b', 'c']);
    expect(R1_TAGS).toHaveLength(4);
  });
});

describe('TaskRng', () => {
  it('is seeded and rejects non-integer seeds', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, ((r) => () => r.int(0, 1000))(new TaskRng(seed)));
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
    expect(() => new TaskRng(1.5)).toThrow(/seed must be a safe integer/);
  });
});
