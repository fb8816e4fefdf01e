import { describe, expect, it } from 'vitest';
import { ReasoningSplitter, splitReasoning } from './reasoning';

/** Streams `text` in pieces of `size` characters and concatenates the deltas. */
function streamed(text: string, size: number): { reasoning: string; content: string } {
  const s = new ReasoningSplitter();
  const out = { reasoning: '', content: '' };
  const take = (d: { reasoning?: string; content?: string }) => {
    out.reasoning += d.reasoning ?? '';
    out.content += d.content ?? '';
    for (const v of Object.values(d)) expect(v).not.toMatch(/<\/?(think|answer)>/);
  };
  for (let i = 0; i < text.length; i += size) take(s.push(text.slice(i, i + size)));
  take(s.end());
  return out;
}

describe('reasoning split', () => {
  const cases: [string, string | null, string][] = [
    ['<think>7+5=12,4+8+1=13</think><answer>132</answer>', '7+5=12,4+8+1=13', '132'],
    ['  <think>a<b</think>\n<answer> 4 </answer>', 'a<b', '\n 4 '],
    ['<think>cut off mid-thought', 'cut off mid-thought', ''],
    ['no reasoning <answer>5</answer>', null, 'no reasoning 5'],
    ['<thin', null, '<thin'],
    ['<think></think>', '', ''],
  ];
  it.each(cases)('%j', (text, reasoning, content) => {
    expect(splitReasoning(text)).toEqual({ reasoning, content });
    for (const size of [1, 2, 3, 7]) expect(streamed(text, size)).toEqual({ reasoning: reasoning ?? '', content });
  });
});
