// Splits an R1 completion into the DeepSeek API's `reasoning_content` and `content`.
//
// Convention (documented in the README): `reasoning_content` is the text inside `<think>…</think>`;
// `content` is everything after `</think>` with R1's `<answer>` / `</answer>` tags removed, so a chat
// client shows the bare answer. A completion that does not open with `<think>` (leading whitespace
// aside) has no reasoning: all of it is `content`. An unclosed `<think>` (a truncated completion) is all
// reasoning. `OpenAICompatibleTeacher` re-wraps the pair as `<think>…</think><answer>…</answer>`.
// When the prompt itself ended with `<think>` (DeepSeek-R1-Distill's chat template writes it in the
// generation prompt), the completion starts inside the reasoning: pass `{ inReasoning: true }`.
// Everything here works on text, so tags that a tokenizer splits over several tokens work the same.

const THINK = '<think>';
const THINK_END = '</think>';
const ANSWER_TAGS = ['<answer>', '</answer>'];

/** Options of {@link ReasoningSplitter} and {@link splitReasoning}. */
export interface ReasoningOptions {
  /** The prompt already opened `<think>`: the completion starts as reasoning. Default false. */
  inReasoning?: boolean;
}

/** A piece of streamed output: reasoning text, answer text, or both. */
export interface ReasoningDelta {
  reasoning?: string;
  content?: string;
}

/**
 * Incremental splitter: feed completion text as it streams, get reasoning/content deltas. Text that
 * may be the start of a tag is held back until it is decided, so tags never leak into a delta even
 * when a tokenizer splits them over several tokens.
 *
 * @example
 * ```ts
 * const s = new ReasoningSplitter();
 * const out = [s.push('<think>1+2'), s.push('=3</thi'), s.push('nk><answer>3</answer>'), s.end()];
 * // reasoning '1+2=3', content '3'
 * ```
 */
export class ReasoningSplitter {
  private state: 'start' | 'reasoning' | 'content';
  private pending = '';

  constructor(options: ReasoningOptions = {}) {
    this.state = options.inReasoning ? 'reasoning' : 'start';
  }

  /** Feeds more completion text; returns what can be emitted now. */
  push(text: string): ReasoningDelta {
    this.pending += text;
    return this.drain(false);
  }

  /** Ends the stream: flushes everything still held back. */
  end(): ReasoningDelta {
    return this.drain(true);
  }

  private drain(final: boolean): ReasoningDelta {
    const out: ReasoningDelta = {};
    const add = (key: keyof ReasoningDelta, s: string) => {
      if (s) out[key] = (out[key] ?? '') + s;
    };
    for (;;) {
      if (this.state === 'start') {
        const trimmed = this.pending.trimStart();
        if (trimmed.startsWith(THINK)) {
          this.pending = trimmed.slice(THINK.length);
          this.state = 'reasoning';
        } else if (!final && (trimmed === '' || THINK.startsWith(trimmed))) {
          return out; // could still become `<think>`
        } else {
          this.state = 'content';
        }
      } else if (this.state === 'reasoning') {
        const end = this.pending.indexOf(THINK_END);
        if (end >= 0) {
          add('reasoning', this.pending.slice(0, end));
          this.pending = this.pending.slice(end + THINK_END.length);
          this.state = 'content';
          continue;
        }
        const keep = final ? 0 : partialTagSuffix(this.pending, [THINK_END]);
        add('reasoning', this.pending.slice(0, this.pending.length - keep));
        this.pending = this.pending.slice(this.pending.length - keep);
        return out;
      } else {
        let text = this.pending;
        for (const tag of ANSWER_TAGS) text = text.split(tag).join('');
        const keep = final ? 0 : partialTagSuffix(text, ANSWER_TAGS);
        add('content', text.slice(0, text.length - keep));
        this.pending = text.slice(text.length - keep);
        return out;
      }
    }
  }
}

/** Length of the longest suffix of `text` that is a proper prefix of one of `tags`. */
function partialTagSuffix(text: string, tags: readonly string[]): number {
  let best = 0;
  for (const tag of tags) {
    for (let n = Math.min(tag.length - 1, text.length); n > best; n--) {
      if (text.endsWith(tag.slice(0, n))) {
        best = n;
        break;
      }
    }
  }
  return best;
}

/**
 * Splits a whole completion (same rules as {@link ReasoningSplitter}); `reasoning` is null when the
 * completion has no `<think>` block (and the prompt did not open one).
 *
 * @example
 * ```ts
 * splitReasoning('<think>7+5=12</think><answer>12</answer>'); // { reasoning: '7+5=12', content: '12' }
 * ```
 */
export function splitReasoning(text: string, options: ReasoningOptions = {}): { reasoning: string | null; content: string } {
  const s = new ReasoningSplitter(options);
  const a = s.push(text);
  const b = s.end();
  const reasoning = (a.reasoning ?? '') + (b.reasoning ?? '');
  const opened = options.inReasoning || text.trimStart().startsWith(THINK);
  return { reasoning: opened ? reasoning : null, content: (a.content ?? '') + (b.content ?? '') };
}
