import { describe, expect, it } from 'vitest';
import { formatReward, tagCountReward } from './format.js';

const s = { prompt: '' };

describe('formatReward', () => {
  it.each([
    ['<think>a</think><answer>b</answer>', 1],
    ['<think>reason\nover lines</think>\n\n<answer>42</answer>', 1],
    ['  <think>a</think> <answer>b</answer>\n', 1],
    ['<think></think><answer></answer>', 1],
    ['<think>a < b and c > d</think><answer>x</answer>', 1],
    ['Sure! <think>a</think><answer>b</answer>', 0],
    ['<think>a</think><answer>b</answer> Hope this helps', 0],
    ['<think>a</think>text<answer>b</answer>', 0],
    ['<answer>b</answer><think>a</think>', 0],
    ['<think>a</think>', 0],
    ['<answer>b</answer>', 0],
    ['<think>a<think>b</think><answer>c</answer>', 0],
    ['<think>a</think><answer>b</answer><answer>c</answer>', 0],
    ['<think>a</think><think>b</think><answer>c</answer>', 0],
    ['<think>a</think><answer>b</think></answer>', 0],
    ['<Think>a</Think><answer>b</answer>', 0],
    ['', 0],
  ])('%j → %s', (completion, expected) => {
    expect(formatReward(completion, s)).toBe(expected);
  });
});

describe('tagCountReward', () => {
  it.each([
    ['<think>a</think><answer>b</answer>', 1],
    ['<think>a</think>', 0.5],
    ['<think>a', 0.25],
    ['<think>a</think><think>b</think><answer>c</answer>', 0.5],
    ['no tags', 0],
    ['</answer><answer></think><think>', 1], // counts tags, not order: formatReward checks order
  ])('%j → %s', (completion, expected) => {
    expect(tagCountReward(completion, s)).toBe(expected);
  });
});
