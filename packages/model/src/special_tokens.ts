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
 * Ids of a tokenizer's special tokens. eos and pad always exist (pad is eos when the tokenizer
 * names no pad token, as for Llama 3); bos is absent where the tokenizer has none (Qwen). The chat
 * markers and R1's tags have an id only when the vocabulary holds them as one token: a published
 * tokenizer often has none for `<answer>`, and then the tags are plain text, so rewards, stop strings
 * and reasoning splitting work on the decoded text, never on these ids.
 *
 * @example
 * ```ts
 * import { CharTokenizer, type SpecialTokenIds } from '@r1-ts/model';
 * const ids: SpecialTokenIds = CharTokenizer.fromCorpus(['a']).special;
 * console.log(ids.think !== undefined); // true: the character tokenizer has every tag as one id
 * ```
 */
export interface SpecialTokenIds {
  readonly eos: number;
  readonly pad: number;
  readonly bos?: number;
  readonly user?: number;
  readonly assistant?: number;
  readonly think?: number;
  readonly thinkEnd?: number;
  readonly answer?: number;
  readonly answerEnd?: number;
}
