import { readFileSync } from 'node:fs';
import { Tokenizer as HfTokenizerImpl } from '@huggingface/tokenizers';
import { CheckpointError } from '@r1-ts/tensor-kernels';

/**
 * The special tokens R1's recipe uses, as DeepSeek spells them.
 *
 * @example
 * ```ts
 * import { SPECIAL_TOKENS } from '@r1-ts/model';
 * const reply = `${SPECIAL_TOKENS.think}2+2=4${SPECIAL_TOKENS.thinkEnd}${SPECIAL_TOKENS.answer}4${SPECIAL_TOKENS.answerEnd}`;
 * console.log(reply); // '<think>2+2=4</think><answer>4</answer>'
 * ```
 */
export const SPECIAL_TOKENS = {
  bos: '<｜begin▁of▁sentence｜>',
  eos: '<｜end▁of▁sentence｜>',
  pad: '<｜▁pad▁｜>',
  user: '<｜User｜>',
  assistant: '<｜Assistant｜>',
  think: '<think>',
  thinkEnd: '</think>',
  answer: '<answer>',
  answerEnd: '</answer>',
} as const;

/**
 * Role names of {@link SPECIAL_TOKENS}.
 *
 * @example
 * ```ts
 * import { CharTokenizer, type SpecialTokenName } from '@r1-ts/model';
 * const tok = CharTokenizer.fromCorpus(['abc']);
 * const name: SpecialTokenName = 'eos';
 * console.log(tok.decode([tok.special[name]])); // '<｜end▁of▁sentence｜>'
 * ```
 */
export type SpecialTokenName = keyof typeof SPECIAL_TOKENS;

/**
 * What every tokenizer offers the model, the trainers and the server.
 *
 * @example
 * ```ts
 * import { CharTokenizer, type Tokenizer } from '@r1-ts/model';
 * const tok: Tokenizer = CharTokenizer.fromCorpus(['What is 1+2?']);
 * const ids = [...tok.encode('1+2'), tok.special.eos];
 * console.log(tok.decode(ids, { skipSpecial: true })); // '1+2'
 * ```
 */
export interface Tokenizer {
  /** Number of ids (the model's vocab_size must be at least this). */
  readonly vocabSize: number;
  /** Ids of the special tokens. */
  readonly special: Record<SpecialTokenName, number>;
  /** Text → ids; special-token strings in the text become their single ids. */
  encode(text: string): number[];
  /** Ids → text; `skipSpecial` drops bos/eos/pad and the chat markers (keeps the think/answer tags). */
  decode(ids: readonly number[], options?: { skipSpecial?: boolean }): string;
  /** A Hugging Face `tokenizer.json` object describing this tokenizer. */
  toJSON(): Record<string, unknown>;
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

/**
 * Any Hugging Face `tokenizer.json` (BPE, Unigram, WordPiece…) through @huggingface/tokenizers,
 * e.g. DeepSeek-V3's. Special tokens missing from the vocabulary map to the eos id.
 *
 * @example
 * ```ts
 * import { CharTokenizer, HfTokenizer } from '@r1-ts/model';
 * const json = CharTokenizer.fromCorpus(['abc']).toJSON();
 * const tok = new HfTokenizer(json);
 * console.log(tok.decode(tok.encode('cab'))); // 'cab'
 * ```
 */
export class HfTokenizer implements Tokenizer {
  readonly special: Record<SpecialTokenName, number>;
  readonly vocabSize: number;
  private readonly impl: HfTokenizerImpl;

  constructor(private readonly json: Record<string, unknown>, config: Record<string, unknown> = {}) {
    try {
      this.impl = new HfTokenizerImpl(json as never, config as never);
    } catch (e) {
      throw new CheckpointError(`tokenizer.json could not be loaded: ${(e as Error).message}`);
    }
    const model = json.model as { vocab?: Record<string, number> | [string, number][] } | undefined;
    const added = Array.isArray(json.added_tokens) ? (json.added_tokens as { id: number; content: string }[]) : [];
    const ids = new Map<string, number>();
    if (Array.isArray(model?.vocab)) model.vocab.forEach(([t], i) => ids.set(t, i));
    else for (const [t, i] of Object.entries(model?.vocab ?? {})) ids.set(t, i);
    for (const a of added) ids.set(a.content, a.id);
    if (ids.size === 0) throw new CheckpointError('tokenizer.json: the vocabulary is empty (model.vocab and added_tokens define no token)');
    this.vocabSize = Math.max(...ids.values()) + 1;
    if (!Number.isSafeInteger(this.vocabSize) || this.vocabSize < 1) {
      throw new CheckpointError(`tokenizer.json: token ids must be non-negative integers, got a largest id of ${this.vocabSize - 1}`);
    }
    const eos = ids.get(SPECIAL_TOKENS.eos) ?? ids.get('</s>') ?? 0;
    this.special = Object.fromEntries(
      (Object.entries(SPECIAL_TOKENS) as [SpecialTokenName, string][]).map(([name, text]) => [name, ids.get(text) ?? eos]),
    ) as Record<SpecialTokenName, number>;
  }

  /** Loads `tokenizer.json` (and `tokenizer_config.json` when given) from disk. */
  static fromFile(path: string, configPath?: string): HfTokenizer {
    const read = (p: string) => {
      try {
        return JSON.parse(readFileSync(p, 'utf8'));
      } catch (e) {
        throw new CheckpointError(`${p}: cannot read tokenizer file (${(e as Error).message})`);
      }
    };
    return new HfTokenizer(read(path), configPath ? read(configPath) : {});
  }

  encode(text: string): number[] {
    return this.impl.encode(text, { add_special_tokens: false } as never).ids;
  }

  decode(ids: readonly number[], options: { skipSpecial?: boolean } = {}): string {
    return this.impl.decode([...ids], { skip_special_tokens: options.skipSpecial ?? false } as never);
  }

  toJSON(): Record<string, unknown> {
    return this.json;
  }
}

/** Tokenizer model types Hugging Face's tokenizer.json format defines. */
const HF_MODEL_TYPES = ['BPE', 'WordPiece', 'WordLevel', 'Unigram'];

/**
 * Reads a tokenizer.json: the r1-ts character tokenizer when it is one, otherwise a generic
 * Hugging Face tokenizer.
 *
 * @example
 * ```ts
 * import { CharTokenizer, tokenizerFromJSON } from '@r1-ts/model';
 * const tok = tokenizerFromJSON(CharTokenizer.fromCorpus(['xyz']).toJSON());
 * console.log(tok.vocabSize); // 12
 * ```
 */
export function tokenizerFromJSON(json: Record<string, unknown>): Tokenizer {
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
  return new HfTokenizer(json);
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
