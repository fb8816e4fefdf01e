import { describe, expect, it } from 'vitest';
import { CharTokenizer, HfTokenizer, renderChat, SPECIAL_TOKENS, tokenizerFromJSON } from './tokenizer';

const corpus = ['What is 347+285?', '<think>7+5=12,4+8+1=13,3+2+1=6</think><answer>632</answer>'];

describe('CharTokenizer', () => {
  const tok = CharTokenizer.fromCorpus(corpus);

  it('encodes special tokens as single ids and round-trips text', () => {
    const text = renderChat([{ role: 'user', content: 'What is 347+285?' }]) + '<think>7+5=12</think><answer>632</answer>';
    const ids = tok.encode(text);
    expect(tok.decode(ids)).toBe(text);
    expect(ids[0]).toBe(tok.special.bos);
    expect(ids.filter((i) => i === tok.special.think)).toHaveLength(1);
    // 'What is 347+285?' is 16 characters; bos, user, assistant and 4 tags are one id each.
    expect(ids.length).toBe(3 + 16 + 4 + '7+5=12'.length + '632'.length);
  });

  it('skips chat markers when asked but keeps reasoning tags', () => {
    const ids = tok.encode(`${SPECIAL_TOKENS.bos}<think>1</think>${SPECIAL_TOKENS.eos}`);
    expect(tok.decode(ids, { skipSpecial: true })).toBe('<think>1</think>');
  });

  it('rejects characters outside the vocabulary and ids outside it', () => {
    expect(() => tok.encode('Q')).toThrow(/"Q" is not in the tokenizer's vocabulary/);
    expect(() => tok.decode([9999])).toThrow(/outside the vocabulary/);
  });

  it('serialises to a Hugging Face tokenizer.json that @huggingface/tokenizers encodes identically', () => {
    const json = JSON.parse(JSON.stringify(tok.toJSON()));
    const hf = new HfTokenizer(json);
    const text = '<think>4+8+1=13</think><answer>632</answer>What is 3?';
    expect(hf.encode(text)).toEqual(tok.encode(text));
    expect(hf.decode(tok.encode(text))).toBe(text);
    expect(hf.special).toEqual(tok.special);
    const back = tokenizerFromJSON(json);
    expect(back).toBeInstanceOf(CharTokenizer);
    expect(back.encode(text)).toEqual(tok.encode(text));
  });
});
