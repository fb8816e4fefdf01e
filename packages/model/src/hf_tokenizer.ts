// A Hugging Face tokenizer.json + tokenizer_config.json, through @huggingface/tokenizers.
import { readFileSync } from 'node:fs';
import { Tokenizer as HfTokenizerImpl } from '@huggingface/tokenizers';
import { CheckpointError } from '@r1-ts/tensor-kernels';
import { ChatTemplate, ChatTemplateError, selectChatTemplate } from './chat_template';
import type { ChatTemplateMessage, ChatTemplateOptions } from './chat_template';
import { SPECIAL_TOKENS } from './special_tokens';
import type { SpecialTokenIds } from './special_tokens';
import type { Tokenizer } from './tokenizer';
import { readJsonObject } from './json_file';

/** A tokenizer_config.json token value: a string, an AddedToken object, or null. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  return undefined;
}

/** Names under which tokenizers commonly spell end-of-sequence, tried when the config names none. */
const EOS_FALLBACKS = [SPECIAL_TOKENS.eos, '</s>', '<|endoftext|>', '<|end_of_text|>'];

/** transformers' SPECIAL_TOKENS_ATTRIBUTES: the names a chat template sees. */
const NAMED_SPECIAL_TOKENS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];

/**
 * Any Hugging Face `tokenizer.json` (BPE, Unigram, WordPiece…) through @huggingface/tokenizers,
 * e.g. DeepSeek-V3's, with its `tokenizer_config.json`: bos/eos/pad, the added tokens of
 * `added_tokens_decoder`, and the `chat_template`.
 *
 * @example
 * ```ts
 * import { CharTokenizer, HfTokenizer } from '@r1-ts/model';
 * const json = CharTokenizer.fromCorpus(['abc']).toJSON();
 * const tok = new HfTokenizer(json, { eos_token: '<｜end▁of▁sentence｜>', chat_template: '{{ messages[0].content }}' });
 * console.log(tok.decode(tok.encode('cab')), tok.applyChatTemplate([{ role: 'user', content: 'ab' }])); // 'cab' 'ab'
 * ```
 */
export class HfTokenizer implements Tokenizer {
  readonly special: SpecialTokenIds;
  readonly vocabSize: number;
  readonly chatTemplate: string | null;
  /** The `tool_use` template of a named list in the config, used when tools are given. */
  private readonly toolTemplate: string | null;
  private readonly impl: HfTokenizerImpl;
  private readonly json: Record<string, unknown>;
  private readonly specialTokens: Record<string, string>;
  private readonly templates = new Map<string, ChatTemplate>();

  /**
   * @param json the parsed tokenizer.json
   * @param config the parsed tokenizer_config.json (may be empty)
   * @param chatTemplate a template that overrides the config's (a `chat_template.jinja` file)
   */
  constructor(json: Record<string, unknown>, private readonly config: Record<string, unknown> = {}, chatTemplate?: string) {
    this.json = withConfigAddedTokens(json, config);
    try {
      this.impl = new HfTokenizerImpl(this.json as never, config as never);
    } catch (e) {
      throw new CheckpointError(`tokenizer.json could not be loaded: ${(e as Error).message}`);
    }
    this.vocabSize = largestId(this.json) + 1;
    this.specialTokens = {};
    for (const name of NAMED_SPECIAL_TOKENS) {
      const text = tokenText(config[name]);
      if (text !== undefined) this.specialTokens[name] = text;
    }
    this.special = this.specialIds();
    this.chatTemplate = chatTemplate ?? selectChatTemplate(config.chat_template);
    this.toolTemplate = chatTemplate === undefined ? selectChatTemplate(config.chat_template, true) : null;
  }

  /** Loads `tokenizer.json` (and `tokenizer_config.json` when given) from disk. */
  static fromFile(path: string, configPath?: string): HfTokenizer {
    return new HfTokenizer(readJsonFile(path), configPath ? readJsonFile(configPath) : {});
  }

  encode(text: string): number[] {
    return this.impl.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[], options: { skipSpecial?: boolean } = {}): string {
    if (ids.length === 0) return ''; // @huggingface/tokenizers rejects an empty list
    return this.impl.decode(Array.from(ids), { skip_special_tokens: options.skipSpecial ?? false });
  }

  applyChatTemplate(messages: readonly ChatTemplateMessage[], options: ChatTemplateOptions = {}): string {
    const source = options.tools && this.toolTemplate !== null ? this.toolTemplate : this.chatTemplate;
    if (source === null) {
      throw new ChatTemplateError('this tokenizer has no chat template: tokenizer_config.json sets no chat_template and there is no chat_template.jinja');
    }
    let template = this.templates.get(source);
    if (!template) this.templates.set(source, (template = new ChatTemplate(source, this.specialTokens)));
    return template.render(messages, options);
  }

  toJSON(): Record<string, unknown> {
    return this.json;
  }

  toConfigJSON(): Record<string, unknown> {
    return { ...this.config, ...(this.chatTemplate === null ? {} : { chat_template: this.chatTemplate }) };
  }

  /** The id of `text` when the tokenizer encodes it as exactly one token, else undefined. */
  private singleId(text: string): number | undefined {
    const ids = this.encode(text);
    return ids.length === 1 && this.decode(ids) === text ? ids[0] : undefined;
  }

  private specialIds(): SpecialTokenIds {
    const named = (key: string): number | undefined => {
      const text = this.specialTokens[key];
      if (text === undefined) return undefined;
      const id = this.impl.token_to_id(text);
      if (id === undefined) throw new CheckpointError(`tokenizer_config.json ${key} is ${JSON.stringify(text)}, which is not in the tokenizer's vocabulary`);
      return id;
    };
    // Without a config (a bare tokenizer.json), R1's own names and the common eos spellings stand in.
    const configured = (key: string) => key in this.config;
    const eos = named('eos_token') ?? (configured('eos_token') ? undefined : EOS_FALLBACKS.map((t) => this.impl.token_to_id(t)).find((id) => id !== undefined));
    if (eos === undefined) {
      throw new CheckpointError(`the tokenizer has no end-of-sequence token: set eos_token in tokenizer_config.json (none of ${EOS_FALLBACKS.join(', ')} is in the vocabulary)`);
    }
    const bos = named('bos_token') ?? (configured('bos_token') ? undefined : this.impl.token_to_id(SPECIAL_TOKENS.bos));
    const pad = named('pad_token') ?? (configured('pad_token') ? undefined : this.impl.token_to_id(SPECIAL_TOKENS.pad)) ?? eos;
    const ids: { -readonly [K in keyof SpecialTokenIds]: SpecialTokenIds[K] } = { eos, pad };
    if (bos !== undefined) ids.bos = bos;
    for (const name of ['user', 'assistant', 'think', 'thinkEnd', 'answer', 'answerEnd'] as const) {
      const id = this.singleId(SPECIAL_TOKENS[name]);
      if (id !== undefined) ids[name] = id;
    }
    return ids;
  }
}

/** Largest id of the vocabulary and the added tokens, by a loop: 128k ids overflow a spread's stack. */
function largestId(json: Record<string, unknown>): number {
  const model = json.model as { vocab?: Record<string, number> | [string, number][] } | undefined;
  let largest = -1;
  const see = (id: unknown, what: string) => {
    if (!Number.isSafeInteger(id) || (id as number) < 0) throw new CheckpointError(`tokenizer.json: ${what} must have a non-negative integer id, got ${JSON.stringify(id)}`);
    if ((id as number) > largest) largest = id as number;
  };
  // A Unigram vocab is a list of [piece, score]: its ids are the positions.
  if (Array.isArray(model?.vocab)) largest = model.vocab.length - 1;
  else for (const [t, id] of Object.entries(model?.vocab ?? {})) see(id, `vocabulary token ${JSON.stringify(t)}`);
  for (const a of (json.added_tokens ?? []) as { id: unknown; content: unknown }[]) see(a.id, `added token ${JSON.stringify(a.content)}`);
  if (largest < 0) throw new CheckpointError('tokenizer.json: the vocabulary is empty (model.vocab and added_tokens define no token)');
  return largest;
}

/**
 * tokenizer.json with the tokens of tokenizer_config.json's `added_tokens_decoder` that it lacks
 * appended to `added_tokens` (transformers adds them the same way); the input is not modified.
 */
function withConfigAddedTokens(json: Record<string, unknown>, config: Record<string, unknown>): Record<string, unknown> {
  const decoder = config.added_tokens_decoder;
  if (decoder === undefined || decoder === null) return json;
  if (typeof decoder !== 'object' || Array.isArray(decoder)) {
    throw new CheckpointError(`tokenizer_config.json added_tokens_decoder must be an object of id → token, got ${Array.isArray(decoder) ? 'an array' : typeof decoder}`);
  }
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as { id: number; content: string }[]) : [];
  const have = new Set(added.map((a) => a.id));
  const extra: Record<string, unknown>[] = [];
  for (const [key, token] of Object.entries(decoder as Record<string, Record<string, unknown>>)) {
    const id = Number(key);
    const content = tokenText(token);
    if (!Number.isSafeInteger(id) || id < 0 || content === undefined) {
      throw new CheckpointError(`tokenizer_config.json added_tokens_decoder[${JSON.stringify(key)}] must map a non-negative integer id to a token with "content", got ${JSON.stringify(token)}`);
    }
    if (have.has(id)) continue;
    const flags = { single_word: false, lstrip: false, rstrip: false, normalized: false, special: false, ...token };
    extra.push({ id, ...flags, content });
  }
  return extra.length === 0 ? json : { ...json, added_tokens: [...added, ...extra] };
}

/** Reads a JSON object file that must exist, or throws a CheckpointError naming it. */
export function readJsonFile(path: string): Record<string, unknown> {
  const value = readJsonObject(path);
  if (!value) throw new CheckpointError(`${path}: no such file`);
  return value;
}
