import { z } from 'zod';
import { mathRow } from '../math-jsonl.js';
import type { TaskSample } from '../sample.js';
import { checkOptionKeys } from '../options.js';

/**
 * One turn of a chat dataset's `messages` column (OpenAI / TRL conversational format).
 *
 * @example
 * ```ts
 * import type { ChatTurn } from '@r1-ts/tasks';
 * const turn: ChatTurn = { role: 'user', content: 'What is 2+2?' };
 * ```
 */
export interface ChatTurn {
  /** Who speaks. */
  role: 'system' | 'user' | 'assistant' | 'tool';
  /** What they say. */
  content: string;
}

/**
 * A training example from a dataset file: a {@link TaskSample} (prompt + gold answer for rewards),
 * the conversation to prompt with for chat datasets, and a reference completion for SFT.
 *
 * @example
 * ```ts
 * import type { DatasetSample } from '@r1-ts/tasks';
 * const s: DatasetSample = { id: 'gsm8k.jsonl:1', task: 'gsm8k', prompt: 'Tom has 2 apples…', answer: '5', difficulty: 0,
 *   completion: 'He has 2+3=5 apples.\n#### 5' };
 * ```
 */
export interface DatasetSample extends TaskSample {
  /** The prompt conversation (chat datasets: every turn before the last assistant one). */
  messages?: ChatTurn[];
  /** Reference completion for SFT: GSM8K's worked answer, MATH's solution, the last assistant turn, or `completionColumn`. */
  completion?: string;
}

/**
 * How rows map to samples. Without columns, each row's schema is recognised: GSM8K
 * (`question`, `answer` ending in `#### 42`), MATH / open-r1 (`problem`, `solution` with
 * `\boxed{}`, optional `answer`), chat (`messages`, optional `answer`), or plain `prompt`/`answer`.
 *
 * @example
 * ```ts
 * import type { ColumnMapping } from '@r1-ts/tasks';
 * const m: ColumnMapping = { promptColumn: 'input', answerColumn: 'target' };
 * ```
 */
export interface ColumnMapping {
  /** Column holding the prompt: a string, or a list of chat turns. */
  promptColumn?: string;
  /** Column holding the gold answer (a string or number; `#### x` and `\boxed{x}` are reduced to x). */
  answerColumn?: string;
  /** Column holding the SFT target completion. */
  completionColumn?: string;
}

const turn = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string(),
});
const turns = z.array(turn).min(1);

/** A gold answer from a cell: numbers (incl. Parquet int64) as text; `#### x` → x; `\boxed{x}` → x. */
function goldOf(v: unknown): string | null {
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v !== 'string' || v.trim() === '') return null;
  const at = v.lastIndexOf('####');
  if (at >= 0) return v.slice(at + 4).trim().replace(/(\d),(?=\d{3}\b)/g, '$1');
  const boxed = /\\(boxed|fbox)\s*\{/.test(v) ? lastBoxedLoose(v) : null;
  return boxed ?? v.trim();
}

function lastBoxedLoose(v: string): string | null {
  const parsed = mathRow.safeParse({ problem: '', solution: v });
  return parsed.success ? parsed.data.answer : null;
}

/** Splits a conversation into its prompt (turns before the last assistant turn) and that turn. */
function splitChat(messages: ChatTurn[]): { prompt: ChatTurn[]; completion?: string } {
  const last = messages.length - 1;
  if (messages[last].role === 'assistant') return { prompt: messages.slice(0, last), completion: messages[last].content };
  return { prompt: messages };
}

/** The user-visible text of a prompt conversation (what `prompt` holds for chat rows). */
function lastUserText(messages: ChatTurn[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user') return messages[i].content;
  return messages[messages.length - 1].content;
}

/**
 * The zod schema of one row under `mapping`: validates and converts to a sample (without the
 * fallback id), with issues naming the column.
 *
 * @param mapping - Which columns hold the prompt, the answer and the completion. Default: recognised by schema.
 *
 * @example
 * ```ts
 * import { datasetRow } from '@r1-ts/tasks';
 * const s = datasetRow({ promptColumn: 'q', answerColumn: 'a' }).parse({ q: 'What is 2+2?', a: 4 });
 * console.log(s.prompt, s.answer); // What is 2+2? 4
 * ```
 */
export function datasetRow(mapping: ColumnMapping = {}): z.ZodType<Omit<DatasetSample, 'id'> & { id?: string }> {
  checkOptionKeys('datasetRow', mapping, { promptColumn: true, answerColumn: true, completionColumn: true });
  return z.looseObject({}).transform((r, ctx): Omit<DatasetSample, 'id'> & { id?: string } => {
    const fail = (path: string, message: string) => {
      ctx.addIssue({ code: 'custom', path: [path], message });
      return z.NEVER;
    };
    const id = typeof r.id === 'string' ? r.id : typeof r.unique_id === 'string' ? r.unique_id : undefined;
    const completionOf = (fallback?: string): string | undefined => {
      if (!mapping.completionColumn) return fallback;
      const c = r[mapping.completionColumn];
      return typeof c === 'string' ? c : fail(mapping.completionColumn, `expected a string completion, got ${JSON.stringify(c)}`);
    };

    const promptKey = mapping.promptColumn ?? (r.messages !== undefined ? 'messages' : r.prompt !== undefined && r.question === undefined && r.problem === undefined ? 'prompt' : undefined);
    if (promptKey === undefined && mapping.answerColumn === undefined) {
      // GSM8K / MATH rows: the existing loader's rules.
      const parsed = mathRow.safeParse(r);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path as PropertyKey[], message: issue.message });
        return z.NEVER;
      }
      const s = parsed.data;
      const solution = typeof s.meta?.solution === 'string' ? s.meta.solution : undefined;
      const completion = s.task === 'gsm8k' ? (r.answer as string) : solution;
      return { ...s, id: s.id ?? id, completion: completionOf(completion) };
    }

    const key = promptKey ?? 'prompt';
    const cell = r[key];
    let prompt: string;
    let messages: ChatTurn[] | undefined;
    let completion: string | undefined;
    if (typeof cell === 'string' && cell.trim() !== '') prompt = cell;
    else if (Array.isArray(cell)) {
      const parsed = turns.safeParse(cell);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return fail(key, `expected a list of {role, content} turns: ${[key, ...issue.path].join('.')}: ${issue.message}`);
      }
      const split = splitChat(parsed.data);
      if (split.prompt.length === 0) return fail(key, 'the conversation has no turn before its last assistant turn');
      messages = split.prompt;
      completion = split.completion;
      prompt = lastUserText(messages);
    } else return fail(key, `expected a non-empty string or a list of chat turns, got ${JSON.stringify(cell)}`);

    const present = (k: string) => r[k] !== undefined && r[k] !== null && r[k] !== '';
    const answerKey = mapping.answerColumn ?? ['answer', 'solution'].find(present);
    const answer = answerKey === undefined ? '' : goldOf(r[answerKey]);
    if (answer === null) return fail(answerKey!, `expected a non-empty string or number answer, got ${JSON.stringify(r[answerKey!])}`);
    if (answerKey === undefined && completion === undefined && !mapping.completionColumn) {
      return fail('answer', 'row has a prompt but neither an answer column nor an assistant turn to learn from');
    }
    const target = completionOf(completion);
    return { id, task: messages ? 'chat' : 'dataset', prompt, answer, difficulty: 0, ...(messages && { messages }), ...(target !== undefined && { completion: target }) };
  });
}
