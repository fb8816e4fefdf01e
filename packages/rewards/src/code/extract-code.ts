// Finds the code a completion submits: its last fenced JavaScript block.

const FENCE = /```[ \t]*([\w+#.-]*)[^\n]*\n([\s\S]*?)```/g;
const JS_TAGS = new Set(['', 'js', 'javascript', 'mjs', 'cjs', 'node', 'ecmascript']);

/**
 * The last fenced code block tagged `js`/`javascript` (or `mjs`, `cjs`, `node`) or untagged, or
 * `null` when there is none. Blocks in other languages are skipped.
 *
 * @param completion - The model's output, searched for fenced code blocks.
 *
 * @example
 * ```ts
 * import { lastJavaScriptBlock } from '@r1-ts/rewards';
 * lastJavaScriptBlock('try:\n```js\nconst a = 1;\n```\nfinal:\n```javascript\nconst a = 2;\n```'); // 'const a = 2;\n'
 * ```
 */
export function lastJavaScriptBlock(completion: string): string | null {
  let found: string | null = null;
  for (const m of completion.matchAll(FENCE)) if (JS_TAGS.has(m[1].toLowerCase())) found = m[2];
  return found;
}

/** Turns ES-module syntax the sandbox's script mode rejects into plain declarations. */
export function stripExports(code: string): string {
  return code
    .replace(/^(\s*)export\s+default\s+(?=(?:async\s+)?function\b|class\b)/gm, '$1')
    .replace(/^(\s*)export\s+(?=(?:async\s+)?function\b|class\b|const\b|let\b|var\b)/gm, '$1');
}

const PYTHON_FENCE = /```[ \t]*(python3?|py)[ \t]*\r?\n([\s\S]*?)```/gi;

/**
 * The last ```python (or `py`, `python3`) fenced block of the answer, as open-r1's `extract_code`
 * takes it, or `null`. When the completion has a `</think>`, only the text after the last one (the
 * answer) is searched: drafts inside the reasoning are not the submission.
 *
 * @param completion - The model's output; only the text after its last `</think>` is searched.
 *
 * @example
 * ```ts
 * import { lastPythonBlock } from '@r1-ts/rewards';
 * lastPythonBlock('<think>```python\nprint(0)\n```</think>\n```python\nprint(input())\n```'); // 'print(input())\n'
 * ```
 */
export function lastPythonBlock(completion: string): string | null {
  const end = completion.lastIndexOf('</think>');
  const answer = end >= 0 ? completion.slice(end + '</think>'.length) : completion;
  let found: string | null = null;
  for (const m of answer.matchAll(PYTHON_FENCE)) found = m[2];
  return found;
}
