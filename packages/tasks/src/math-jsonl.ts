import { basename } from 'node:path';
import { z } from 'zod';
import { loadJsonl, type LoadJsonlOptions } from './jsonl.js';
import type { TaskSample } from './sample.js';

/**
 * The content of the last `\boxed{…}` (or `\fbox{…}`) in a LaTeX solution, braces balanced; null
 * when there is none.
 *
 * @param text - A LaTeX solution.
 *
 * @example
 * ```ts
 * import { lastBoxed } from '@r1-ts/tasks';
 * console.log(lastBoxed('so $x = \\boxed{\\frac{1}{2}}$')); // \frac{1}{2}
 * ```
 */
export function lastBoxed(text: string): string | null {
  const boxed = text.lastIndexOf('\\boxed');
  const fbox = text.lastIndexOf('\\fbox');
  if (boxed < 0 && fbox < 0) return null;
  let i = boxed > fbox ? boxed + 6 : fbox + 5;
  while (text[i] === ' ') i++;
  if (text[i] !== '{') return null;
  const start = i + 1;
  for (let depth = 0; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(start, i).trim();
  }
  return null;
}

/** One GSM8K or MATH row → a TaskSample without its fallback id (shared with `loadDataset`). */
export const mathRow = z.looseObject({}).transform((r, ctx): Omit<TaskSample, 'id'> & { id?: string } => {
  const id = typeof r.id === 'string' ? r.id : typeof r.unique_id === 'string' ? r.unique_id : undefined;
  if (typeof r.question === 'string') {
    // GSM8K: worked solution, then `#### 42`; thousands separators are dropped from the final answer.
    const answer = typeof r.answer === 'string' ? r.answer : '';
    const at = answer.lastIndexOf('####');
    const final = at < 0 ? '' : answer.slice(at + 4).trim().replace(/(\d),(?=\d{3}\b)/g, '$1');
    if (final === '') {
      ctx.addIssue({ code: 'custom', path: ['answer'], message: "GSM8K answer must be a string ending in '#### <final answer>'" });
      return z.NEVER;
    }
    return { id, task: 'gsm8k', prompt: r.question, answer: final, language: 'en', difficulty: 0, meta: { solution: answer.slice(0, at).trim() } };
  }
  if (typeof r.problem === 'string') {
    // MATH: an explicit `answer` wins, else the last \boxed{} of `solution`.
    const solution = typeof r.solution === 'string' ? r.solution : undefined;
    const final = typeof r.answer === 'string' && r.answer.trim() !== '' ? r.answer.trim() : solution ? lastBoxed(solution) : null;
    if (!final) {
      ctx.addIssue({ code: 'custom', path: ['solution'], message: 'MATH row needs an answer or a solution with \\boxed{…}' });
      return z.NEVER;
    }
    const level = typeof r.level === 'string' ? /(\d+)/.exec(r.level) : null;
    const subject = typeof r.type === 'string' ? r.type : typeof r.subject === 'string' ? r.subject : undefined;
    return {
      id,
      task: 'math',
      prompt: r.problem,
      answer: final,
      language: 'en',
      difficulty: level ? Number(level[1]) : typeof r.level === 'number' ? r.level : 0,
      meta: { ...(solution !== undefined && { solution }), ...(subject !== undefined && { subject }) },
    };
  }
  ctx.addIssue({ code: 'custom', path: [], message: 'expected {question, answer} (GSM8K) or {problem, solution|answer} (MATH)' });
  return z.NEVER;
});

/**
 * Loads a GSM8K- or MATH-style JSONL file as {@link TaskSample}s, with `loadJsonl`'s error reporting.
 * GSM8K rows `{question, answer}` take the text after the last `####` as the answer (separators
 * removed: `1,234` → `1234`), task `gsm8k`. MATH rows `{problem, solution}` take the last `\boxed{}`
 * of the solution (or an explicit `answer` field), task `math`, difficulty from `level` (`Level 3` → 3).
 * Ids come from `id`/`unique_id`, else `<file name>:<row number>`. Rows may mix both styles.
 *
 * @param path - The GSM8K- or MATH-style JSONL file.
 * @param options - `maxLineBytes`: longest line accepted (default 1 MiB).
 *
 * @example
 * ```ts
 * import { loadMathJsonl, writeJsonl } from '@r1-ts/tasks';
 * await writeJsonl('/tmp/gsm.jsonl', [{ question: 'Tom has 2 apples and buys 3. How many?', answer: '2+3=5\n#### 5' }]);
 * const [s] = await loadMathJsonl('/tmp/gsm.jsonl');
 * console.log(s.prompt, s.answer); // … 5
 * ```
 */
export async function loadMathJsonl(path: string, options: LoadJsonlOptions = {}): Promise<TaskSample[]> {
  const rows = await loadJsonl(path, mathRow, options);
  const name = basename(path);
  return rows.map((r, i) => ({ ...r, id: r.id ?? `${name}:${i + 1}` }));
}
