import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '@r1-ts/tensor-kernels';
import { ChatTemplate, R1_CHAT_TEMPLATE } from './chat_template';
import type { ChatTemplateMessage, ChatTemplateOptions } from './chat_template';
import { HfTokenizer, readJsonFile } from './hf_tokenizer';
import { SPECIAL_TOKENS } from './special_tokens';
import type { SpecialTokenIds, SpecialTokenName } from './special_tokens';

export { SPECIAL_TOKENS } from './special_tokens';
export type { SpecialTokenIds, SpecialTokenName } from './special_tokens';
export { HfTokenizer } from './hf_tokenizer';

/**
 * What every tokenizer offers the model, the trainers and the server.
 *
 * @example
 * ```ts
 * import { CharTokenizer, type Tokenizer } from '@r1-ts/model';
 * const tok: Tokenizer = CharTokenizer.fromCorpus(['What is 1+2?']);
 * const prompt = tok.applyChatTemplate([{ role: 'user', content: '1+2' }], { addGenerationPrompt: true });
 * const ids = [...tok.encode(prompt), tok.special.eos];
 * console.log(tok.decode(ids, { skipSpecial: true })); // '1+2'
 * ```
 */
export interface Tokenizer {
  /** Number of ids (the model's vocab_size must be at least this). */
  readonly vocabSize: number;
  /** Ids of the special tokens. */
  readonly special: SpecialTokenIds;
  /** The Jinja chat template {@link Tokenizer.applyChatTemplate} renders, or null when there is none. */
  readonly chatTemplate: string | null;
  /** Text → ids; special-token strings in the text become their single ids. No bos is added. */
  encode(text: string): number[];
  /** Ids → text; `skipSpecial` drops bos/eos/pad and the chat markers (keeps the think/answer tags). */
  decode(ids: readonly number[], options?: { skipSpecial?: boolean }): string;
  /**
   * Renders a conversation with the chat template, as transformers' `apply_chat_template(...,
   * tokenize=False)` does: `addGenerationPrompt` is false unless given. Throws
   * {@link ChatTemplateError} when the tokenizer has no template or the template refuses the input.
   */
  applyChatTemplate(messages: readonly ChatTemplateMessage[], options?: ChatTemplateOptions): string;
  /** A Hugging Face `tokenizer.json` object describing this tokenizer. */
  toJSON(): Record<string, unknown>;
  /** A Hugging Face `tokenizer_config.json` object: special tokens and the chat template. */
  toConfigJSON(): Record<string, unknown>;
}

/**
 * Character-level tokenizer with R1's special tokens as single ids, built from a corpus. It
 * serialises to a Hugging Face `tokenizer.json` (a BPE model with no merges and a Fuse decoder), so
 * Hugging Face tooling reads it as is.
 *
 * @example
 * ```ts
 * import { CharTokenizer } from '@r1-ts/model';
 * const tok = CharTokenizer.fromCorpus(['What is 1+2?', '<think>1+2=3</think><answer>3</answer>']);
 * const ids = tok.encode('<think>3</think>');
 * console.log(ids.length, tok.decode(ids)); // 3 '<think>3</think>'
 * ```
 */
export class CharTokenizer implements Tokenizer {
  readonly special: Record<SpecialTokenName, number>;
  /** R1's format, the one {@link renderChat} writes (see {@link R1_CHAT_TEMPLATE}). */
  readonly chatTemplate = R1_CHAT_TEMPLATE;
  private readonly template = new ChatTemplate(R1_CHAT_TEMPLATE, {
    bos_token: SPECIAL_TOKENS.bos, eos_token: SPECIAL_TOKENS.eos, pad_token: SPECIAL_TOKENS.pad,
  });
  private readonly idOf: Map<string, number>;
  private readonly specialsByLength: string[];

  private constructor(private readonly vocab: string[]) {
    this.idOf = new Map(vocab.map((t, i) => [t, i]));
    const special = {} as Record<SpecialTokenName, number>;
    for (const [name, text] of Object.entries(SPECIAL_TOKENS) as [SpecialTokenName, string][]) {
      const id = this.idOf.get(text);
      if (id === undefined) throw new CheckpointError(`tokenizer vocabulary lacks the special token ${text}`);
      special[name] = id;
    }
    this.special = special;
    this.specialsByLength = Object.values(SPECIAL_TOKENS).sort((a, b) => b.length - a.length);
  }

  /** Builds the vocabulary: the special tokens first, then every character of the corpus, sorted. */
  static fromCorpus(texts: Iterable<string>): CharTokenizer {
    const chars = new Set<string>();
    for (const t of texts) for (const ch of stripSpecials(t)) chars.add(ch);
    return new CharTokenizer([...Object.values(SPECIAL_TOKENS), ...[...chars].sort()]);
  }

  /** Restores a tokenizer from {@link CharTokenizer.toJSON} output. */
  static fromJSON(json: unknown): CharTokenizer {
    const model = (json as { model?: { type?: string; vocab?: Record<string, number> } })?.model;
    if (!model || model.type !== 'BPE' || typeof model.vocab !== 'object') {
      throw new CheckpointError('tokenizer.json is not an r1-ts character tokenizer (expected model.type "BPE" with a vocab)');
    }
    const vocab: string[] = [];
    for (const [tok, id] of Object.entries(model.vocab)) {
      if (!Number.isInteger(id) || id < 0 || vocab[id] !== undefined) throw new CheckpointError(`tokenizer.json: bad id ${id} for ${JSON.stringify(tok)}`);
      vocab[id] = tok;
    }
    // A sparse array's holes are invisible to some()/map(): count them instead.
    const size = Object.keys(model.vocab).length;
    if (vocab.length !== size) {
      throw new CheckpointError(`tokenizer.json: vocabulary ids are not contiguous (${size} tokens, largest id ${vocab.length - 1})`);
    }
    return new CharTokenizer(vocab);
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    let i = 0;
    outer: while (i < text.length) {
      if (text[i] === '<') {
        for (const s of this.specialsByLength) {
          if (text.startsWith(s, i)) {
            ids.push(this.idOf.get(s)!);
            i += s.length;
            continue outer;
          }
        }
      }
      const ch = String.fromCodePoint(text.codePointAt(i)!);
      const id = this.idOf.get(ch);
      if (id === undefined) throw new RangeError(`character ${JSON.stringify(ch)} is not in the tokenizer's vocabulary`);
      ids.push(id);
      i += ch.length;
    }
    return ids;
  }

  decode(ids: readonly number[], options: { skipSpecial?: boolean } = {}): string {
    const skip = options.skipSpecial
      ? new Set([this.special.bos, this.special.eos, this.special.pad, this.special.user, this.special.assistant])
      : null;
    let out = '';
    for (const id of ids) {
      if (skip?.has(id)) continue;
      const t = this.vocab[id];
      if (t === undefined) throw new RangeError(`token id ${id} is outside the vocabulary (size ${this.vocab.length})`);
      out += t;
    }
    return out;
  }

  applyChatTemplate(messages: readonly ChatTemplateMessage[], options?: ChatTemplateOptions): string {
    return this.template.render(messages, options);
  }

  toConfigJSON(): Record<string, unknown> {
    return {
      tokenizer_class: 'PreTrainedTokenizerFast',
      ...this.template.specialTokens,
      add_bos_token: false,
      add_eos_token: false,
      clean_up_tokenization_spaces: false,
      chat_template: this.chatTemplate,
    };
  }

  toJSON(): Record<string, unknown> {
    const specials = new Set<string>(Object.values(SPECIAL_TOKENS));
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: this.vocab
        .map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }))
        .filter((t) => specials.has(t.content)),
      normalizer: null,
      pre_tokenizer: null,
      post_processor: null,
      decoder: { type: 'Fuse' },
      model: {
        type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
        fuse_unk: false, byte_fallback: false, ignore_merges: false,
        vocab: Object.fromEntries(this.vocab.map((t, i) => [t, i])),
        merges: [],
      },
    };
  }
}

function stripSpecials(text: string): string {
  let t = text;
  for (const s of Object.values(SPECIAL_TOKENS)) t = t.split(s).join('');
  return t;
}

/** Tokenizer model types Hugging Face's tokenizer.json format defines. */
const HF_MODEL_TYPES = ['BPE', 'WordPiece', 'WordLevel', 'Unigram'];

/**
 * Reads a tokenizer.json (with its tokenizer_config.json and a chat template overriding the
 * config's, when given): the r1-ts character tokenizer when it is one (always with R1's built-in
 * template), otherwise a generic Hugging Face tokenizer.
 *
 * @param json - The parsed `tokenizer.json` object.
 * @param config - The parsed `tokenizer_config.json` object (special tokens, `chat_template`). Default `{}`.
 * @param chatTemplate - A Jinja chat template that overrides the config's (e.g. from `chat_template.jinja`). Default: the config's.
 *
 * @example
 * ```ts
 * import { CharTokenizer, tokenizerFromJSON } from '@r1-ts/model';
 * const tok = tokenizerFromJSON(CharTokenizer.fromCorpus(['xyz']).toJSON());
 * console.log(tok.vocabSize); // 12
 * ```
 */
export function tokenizerFromJSON(json: Record<string, unknown>, config: Record<string, unknown> = {}, chatTemplate?: string): Tokenizer {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CheckpointError(`tokenizer.json must be a JSON object, got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : JSON.stringify(json)}`);
  }
  const model = json.model as { type?: string; merges?: unknown[] } | undefined;
  if (typeof model !== 'object' || model === null) throw new CheckpointError('tokenizer.json has no "model" object');
  if (model.type !== undefined && !HF_MODEL_TYPES.includes(model.type as string)) {
    throw new CheckpointError(`tokenizer.json: model.type must be one of ${HF_MODEL_TYPES.join(', ')}, got ${JSON.stringify(model.type)}`);
  }
  if (model?.type === 'BPE' && Array.isArray(model.merges) && model.merges.length === 0 && (json.decoder as { type?: string })?.type === 'Fuse') {
    return CharTokenizer.fromJSON(json);
  }
  return new HfTokenizer(json, config, chatTemplate);
}

/**
 * Loads the tokenizer of a checkpoint directory, as transformers' `AutoTokenizer.from_pretrained`
 * reads it: `tokenizer.json`, `tokenizer_config.json` when present, and the chat template from
 * `chat_template.jinja` (or `chat_template.json`) when present, else from the config. Returns null
 * when the directory has no tokenizer.json.
 *
 * @param dir - A checkpoint directory (local path).
 *
 * @example
 * ```ts
 * import { loadTokenizer } from '@r1-ts/model';
 * const tok = loadTokenizer('checkpoints/DeepSeek-R1-Distill-Qwen-1.5B');
 * const prompt = tok?.applyChatTemplate([{ role: 'user', content: '1+1?' }], { addGenerationPrompt: true });
 * ```
 */
export function loadTokenizer(dir: string): Tokenizer | null {
  const file = (name: string) => join(dir, name);
  if (!existsSync(file('tokenizer.json'))) return null;
  const config = existsSync(file('tokenizer_config.json')) ? readJsonFile(file('tokenizer_config.json')) : {};
  let template: string | undefined;
  if (existsSync(file('chat_template.jinja'))) template = readFileSync(file('chat_template.jinja'), 'utf8');
  else if (existsSync(file('chat_template.json'))) {
    const t = readJsonFile(file('chat_template.json')).chat_template;
    if (typeof t !== 'string') throw new CheckpointError(`${file('chat_template.json')}: "chat_template" must be a string, got ${JSON.stringify(t)}`);
    template = t;
  }
  return tokenizerFromJSON(readJsonFile(file('tokenizer.json')), config, template);
}

/**
 * A chat message.
 *
 * @example
 * ```ts
 * import { renderChat, type ChatMessage } from '@r1-ts/model';
 * const turns: ChatMessage[] = [
 *   { role: 'system', content: 'Answer briefly.' },
 *   { role: 'user', content: '2+2?' },
 * ];
 * console.log(renderChat(turns)); // '<｜begin▁of▁sentence｜>Answer briefly.<｜User｜>2+2?<｜Assistant｜>'
 * ```
 */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * Renders R1's prompt format: bos, system text, then `<｜User｜>…<｜Assistant｜>` turns; with
 * `addGenerationPrompt` the text ends after `<｜Assistant｜>` so the model starts its answer
 * (R1 then opens with `<think>`).
 *
 * @param messages - The conversation: `{ role: 'system' | 'user' | 'assistant', content }` turns in order.
 * @param options - `addGenerationPrompt`: end with `<｜Assistant｜>` so the model answers next (default false).
 *
 * @example
 * ```ts
 * import { renderChat } from '@r1-ts/model';
 * console.log(renderChat([{ role: 'user', content: 'What is 2+2?' }]));
 * // '<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜>'
 * ```
 */
export function renderChat(messages: ChatMessage[], options: { addGenerationPrompt?: boolean } = {}): string {
  let out = SPECIAL_TOKENS.bos;
  for (const m of messages) {
    if (m.role === 'system') out += m.content;
    else if (m.role === 'user') out += SPECIAL_TOKENS.user + m.content;
    else out += SPECIAL_TOKENS.assistant + m.content + SPECIAL_TOKENS.eos;
  }
  if (options.addGenerationPrompt ?? true) out += SPECIAL_TOKENS.assistant;
  return out;
}
