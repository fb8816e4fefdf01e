// Finding the final answer in a completion (or a reference solution), in Math-Verify's order of
// trust: boxed answers, the <answer> block, an anchored "final answer is …", then the last math
// environment. Several boxed answers joined only by commas/"and" form one list answer.

/**
 * How {@link extractAnswer} finds the final answer in a completion:
 * - `'boxed-then-answer'` (default): the last `\boxed{…}`/`\fbox{…}` group, else the `<answer>` block,
 *   else "the (final) answer is …" / "Answer: …" / `#### …`, else the last `$…$`, `\(…\)`, `\[…\]`
 *   (after `</think>` when the completion has one);
 * - `'boxed'` or `'answer'`: only that source;
 * - or your own function (return `null` when there is no answer).
 *
 * @example
 * ```ts
 * import type { AnswerExtractor } from '@r1-ts/rewards';
 * const lastLine: AnswerExtractor = (text) => text.trim().split('\n').pop() ?? null;
 * ```
 */
export type AnswerExtractor = 'boxed-then-answer' | 'answer' | 'boxed' | ((completion: string) => string | null);

interface Span {
  content: string;
  start: number;
  end: number;
}

function boxedSpans(text: string): Span[] {
  const spans: Span[] = [];
  for (const m of text.matchAll(/\\(?:boxed|fbox)\s*\{/g)) {
    const from = m.index! + m[0].length;
    let depth = 1;
    for (let i = from; i < text.length; i++) {
      const c = text[i];
      if (c === '\\') {
        i++; // an escaped brace (\{ \}) does not count
        continue;
      }
      if (c === '{') depth++;
      else if (c === '}' && --depth === 0) {
        if (!spans.some((s) => s.start < m.index! && s.end > i)) spans.push({ content: text.slice(from, i), start: m.index!, end: i + 1 });
        break;
      }
    }
  }
  return spans;
}

/**
 * Contents of the last well-formed `\boxed{…}` or `\fbox{…}` (braces balanced, nested braces kept),
 * or `null` if there is none.
 *
 * @param text - The text to search.
 *
 * @example
 * ```ts
 * import { lastBoxed } from '@r1-ts/rewards';
 * lastBoxed('so \\boxed{1} or rather \\boxed{\\frac{1}{2}}'); // '\\frac{1}{2}'
 * ```
 */
export function lastBoxed(text: string): string | null {
  const spans = boxedSpans(text);
  return spans.length > 0 ? spans[spans.length - 1].content : null;
}

// What may stand between two answers of one list: math delimiters, spacing, commas, "and"/"or",
// and short `\text{…}` notes (`\boxed{(3, 3)} \text{ for part (a) and } \boxed{(1, 1)}`).
function isConnector(gap: string): boolean {
  const rest = gap
    .replace(/\\text\s*\{[^{}\d]{0,40}\}/g, ' ')
    .replace(/\\q?quad|\\[,;: !]|\\\\|\\[()[\]]|\$|&|~/g, ' ')
    .replace(/\b(?:and|or)\b|[,;]/gi, ' ');
  return rest.trim() === '';
}

// Joins the last span with the ones before it while a connector separates them, or, for boxed
// answers (Math-Verify's rule), a gap under 70 characters holding "and", "or", a comma or a
// semicolon between two different answers. Repeats of the same answer are kept once.
function lastGroup(text: string, spans: Span[], boxed = false): string | null {
  if (spans.length === 0) return null;
  let k = spans.length - 1;
  for (; k > 0; k--) {
    const gap = text.slice(spans[k - 1].end, spans[k].start);
    const listed = boxed && gap.length < 70 && /\b(?:and|or)\b|[,;]/.test(gap) && spans[k - 1].content.trim() !== spans[k].content.trim();
    if (!isConnector(gap) && !listed) break;
  }
  const parts = spans.slice(k).map((s) => s.content.trim()).filter((c, i, all) => c !== '' && c !== all[i - 1]);
  return parts.length > 0 ? parts.join(', ') : null;
}

/**
 * The last `\boxed{…}` answer; consecutive boxed answers separated only by commas, "and", "or" or
 * spacing are joined into one list (`\boxed{1}, \boxed{2}` → `1, 2`). `null` if there is none.
 *
 * @param text - The completion to search.
 *
 * @example
 * ```ts
 * import { boxedAnswer } from '@r1-ts/rewards';
 * boxedAnswer('roots \\boxed{1} and \\boxed{-2}.'); // '1, -2'
 * boxedAnswer('\\boxed{1} no wait \\boxed{2}'); // '2'
 * ```
 */
export function boxedAnswer(text: string): string | null {
  return lastGroup(text, boxedSpans(text), true);
}

/**
 * Contents of the last complete `<answer>…</answer>` block, trimmed, or `null`.
 *
 * @param text - The completion to search.
 *
 * @example
 * ```ts
 * import { answerBlock } from '@r1-ts/rewards';
 * answerBlock('<think>…</think><answer> 42 </answer>'); // '42'
 * ```
 */
export function answerBlock(text: string): string | null {
  const end = text.lastIndexOf('</answer>');
  if (end < 0) return null;
  const start = text.lastIndexOf('<answer>', end);
  if (start < 0) return null;
  return text.slice(start + '<answer>'.length, end).trim();
}

// Math environments in reading order: $$…$$, \[…\], \(…\), $…$ (single line).
function mathSpans(text: string): Span[] {
  const re = /(?<!\\)\$\$([\s\S]+?)(?<!\\)\$\$|\\\[([\s\S]+?)\\\]|\\\(([^\n]+?)\\\)|(?<![\\$])\$((?:\\\$|[^$\n])+?)(?<!\\)\$/g;
  return [...text.matchAll(re)].map((m) => ({ content: m[1] ?? m[2] ?? m[3] ?? m[4], start: m.index!, end: m.index! + m[0].length }));
}

/**
 * The last math environment (`$…$`, `$$…$$`, `\(…\)`, `\[…\]`), joined with the ones before it that
 * only commas or "and" separate; `null` if there is none.
 *
 * @param text - The text to search.
 *
 * @example
 * ```ts
 * import { lastMathEnvironment } from '@r1-ts/rewards';
 * lastMathEnvironment('so $x = 2$ and then \\(x^2 = 4\\).'); // 'x^2 = 4'
 * ```
 */
export function lastMathEnvironment(text: string): string | null {
  return lastGroup(text, mathSpans(text));
}

const ANCHORS = [
  /final answer(?:(?![.!?]\s)[^\n]){0,100}?\bis\b\s*:?\s*([^\n]*)/gi,
  /final answer\s*:\s*([^\n]*)/gi,
  /\banswer is\b\s*:?\s*([^\n]*)/gi,
  /\banswer\s*:\s*([^\n]*)/gi,
  /####\s*([^\n]*)/g,
  /\banswer\b\s*([^\n]*(?:\n[^\n]*){0,3})/gi,
];
// A reference is trusted only after an explicit "answer is" / "answer:" / "####".
const STRONG_ANCHORS = ANCHORS.slice(0, -1);

/**
 * The answer after the last "final answer is …", "Final Answer: …", "the answer is …", "Answer: …"
 * or GSM8K's "#### …": its first math environment(s), else the phrase up to the end of the sentence.
 *
 * @param text - The completion (or a solution) to search.
 * @param anchors - The phrases to look for, last match first; default: "final answer is", "Final Answer:", "the answer is", "Answer:", "####".
 *
 * @example
 * ```ts
 * import { anchoredAnswer } from '@r1-ts/rewards';
 * anchoredAnswer('So the answer is $9$. Done.'); // '9'
 * anchoredAnswer('Final Answer: The largest $n$ is 34.'); // '34'
 * ```
 */
export function anchoredAnswer(text: string, anchors: readonly RegExp[] = ANCHORS): string | null {
  for (const re of anchors) {
    const matches = [...text.matchAll(re)];
    for (let k = matches.length - 1; k >= 0; k--) {
      const found = tailAnswer(matches[k][1]);
      if (found !== null) return found;
    }
  }
  return null;
}

// After an anchor: the math environment(s) starting within 50 characters, else the first number of
// a sentence, else the whole phrase when it is not prose.
function tailAnswer(tail: string): string | null {
  const t = tail.replace(/^[\s*"'“]+/, '');
  const spans = mathSpans(t);
  if (spans.length > 0 && spans[0].start <= 50 && !/[.!?](?:\s|$)/.test(t.slice(0, spans[0].start))) {
    let k = 0;
    while (k + 1 < spans.length && isConnector(t.slice(spans[k].end, spans[k + 1].start))) k++;
    return lastGroup(t, spans.slice(0, k + 1));
  }
  const sentence = t.split(/\.(?:\s|$)|\n|\bI hope\b/)[0].replace(/[*"'”\s.,;:]+$/, '').trim();
  if (!/[a-zA-Z0-9]/.test(sentence)) return null;
  if (!isProse(sentence)) return sentence;
  const first = numberSpans(sentence.slice(0, 60))[0];
  return first ? first.content : null;
}

// Plain numbers and simple numeric expressions in running text (`1,000.99`, `2/3`, `28 percent`),
// each preceded by a space, `=`, `(`, `$` or the start, as Math-Verify's expression extractor.
function numberSpans(text: string): Span[] {
  const num = String.raw`-?(?:[1-9]\d{0,2}(?:,\d{3})+|\d+)(?:[.,]\d+)?`;
  const re = new RegExp(String.raw`(?<=^|[\s=:(\[$*])(${num}(?:\s*[-+*/^×÷]\s*\(?${num}\)?)*(?:\s*(?:%|percent\b|pct\b))?)(?![\d])`, 'g');
  return [...text.matchAll(re)].map((m) => ({ content: m[1], start: m.index!, end: m.index! + m[1].length }));
}

// Prose is three or more words of letters outside math and commands.
function isProse(text: string): boolean {
  const outside = text.replace(/\$[^$]*\$|\\\([\s\S]*?\\\)|\\\[[\s\S]*?\\\]|\\[a-zA-Z]+/g, ' ');
  return (outside.match(/[a-zA-Z]{3,}/g) ?? []).length >= 3;
}

// The final answer inside a block that may be a sentence: boxed, anchored, math, else the last number.
function refineBlock(block: string): string | null {
  if (block.trim() === '') return null;
  const found = boxedAnswer(block) ?? anchoredAnswer(block);
  if (found !== null) return found;
  if (!isProse(block)) return block;
  return lastMathEnvironment(block) ?? block.match(/-?\d[\d,]*(?:\.\d+)?(?:\/\d+)?%?/g)?.pop() ?? block;
}

// The boxed answer, unless a "final answer is …" statement comes after it (Math-Verify ranks the
// two equally and takes the later one).
function boxedOrFinal(text: string): string | null {
  const spans = boxedSpans(text);
  const finals = [...text.matchAll(ANCHORS[0])];
  const last = finals[finals.length - 1];
  if (last && (spans.length === 0 || last.index! > spans[spans.length - 1].end)) {
    const stated = tailAnswer(last[1]);
    if (stated !== null && spans.length > 0) return stated;
  }
  return lastGroup(text, spans, true);
}

// No box, block or anchor: the whole text when it is bare mathematics (no words) or words with no
// number (`Monday`), else the later of the last math environment and the last number.
function unanchored(text: string): string | null {
  const env = mathSpans(text);
  const num = numberSpans(text);
  const words = text.replace(/\\(?:begin|end|text|mathrm|mbox)\s*\{[^{}]*\}|\\[a-zA-Z]+/g, ' ').match(/[a-zA-Z]{2,}/g) ?? [];
  if (text.trim() !== '' && env.length === 0 && (words.length === 0 || (num.length === 0 && !isProse(text)))) return text.trim();
  const lastEnv = env[env.length - 1];
  const lastNum = num[num.length - 1];
  if (lastNum && (!lastEnv || lastNum.start >= lastEnv.end)) return lastNum.content;
  return lastGroup(text, env);
}

/**
 * The final answer of a completion according to `mode` (see {@link AnswerExtractor}), or `null` when
 * nothing can be extracted. An empty extraction counts as none.
 *
 * @param completion - The model's output.
 * @param mode - Where the answer is taken from: `boxed-then-answer` (default), `boxed`, `answer`, or a function of the completion.
 *
 * @example
 * ```ts
 * import { extractAnswer } from '@r1-ts/rewards';
 * extractAnswer('<answer>x = \\boxed{5}</answer>'); // '5'
 * extractAnswer('<answer>7</answer>', 'boxed'); // null
 * extractAnswer('Thus the answer is $\\frac{1}{2}$.'); // '\\frac{1}{2}'
 * ```
 */
export function extractAnswer(completion: string, mode: AnswerExtractor = 'boxed-then-answer'): string | null {
  let found: string | null;
  if (typeof mode === 'function') found = mode(completion);
  else if (mode === 'boxed') found = boxedAnswer(completion);
  else if (mode === 'answer') found = refineBlock(answerBlock(completion) ?? '');
  else {
    const think = completion.lastIndexOf('</think>');
    const final = think >= 0 ? completion.slice(think + '</think>'.length) : completion;
    found = boxedOrFinal(completion) ?? refineBlock(answerBlock(completion) ?? '') ?? anchoredAnswer(final) ?? unanchored(final);
  }
  return found !== null && found.trim() !== '' ? found.trim() : null;
}

/**
 * The answer a reference (gold) string gives: its boxed answer, its GSM8K `#### …` line, its
 * `<answer>` block, the answer an "answer is …" / "Answer: …" states, the last math of a solution
 * text, else the whole string (`$125$ miles`). `null` for an empty reference.
 *
 * @param reference - The gold answer or worked solution of a sample (`sample.answer`).
 *
 * @example
 * ```ts
 * import { referenceAnswer } from '@r1-ts/rewards';
 * referenceAnswer('Natalia sold 48/2 = 24 clips in May.\n#### 72'); // '72'
 * ```
 */
export function referenceAnswer(reference: string): string | null {
  if (reference.trim() === '') return null;
  const gsm = /####\s*([^\n]+)/.exec(reference);
  const block = answerBlock(reference);
  return (
    boxedAnswer(reference) ??
    (gsm ? gsm[1].trim() : null) ??
    (block !== null ? refineBlock(block) : null) ??
    anchoredAnswer(reference, STRONG_ANCHORS) ??
    (isProse(reference) ? lastMathEnvironment(reference) : null) ??
    reference.trim()
  );
}
