// Reads a normalised answer into its mathematical shape: a number or expression, words, a set, a
// tuple, an interval, a union, a relation (chain), or a matrix. Items are read recursively.
import { ExprSyntaxError, parseExpr, type Expr } from './math/expr.js';
import { expandPlusMinus, hasPlusMinus } from './math/evaluate.js';
import { textKey } from './normalize.js';

/** Relation operators, normalised (`\leq`, `<=`, `≤` are all `\le`). */
export type RelationOp = '=' | '<' | '>' | '\\le' | '\\ge' | '\\ne';

/** The shape of an answer. */
export type AnswerValue =
  | { kind: 'expr'; expr: Expr; src: string; percent: boolean }
  | { kind: 'text'; key: string }
  | { kind: 'set'; items: AnswerValue[]; plusMinus?: true }
  | { kind: 'tuple'; items: AnswerValue[]; paren: boolean }
  | { kind: 'interval'; lo: Expr; hi: Expr; loClosed: boolean; hiClosed: boolean }
  | { kind: 'union'; parts: AnswerValue[] }
  | { kind: 'relation'; sides: AnswerValue[]; ops: RelationOp[] }
  | { kind: 'matrix'; rows: Expr[][] };

const RELATION = /^(?:=|<|>|\\le(?![a-zA-Z])|\\ge(?![a-zA-Z])|\\ne(?![a-zA-Z]))/;

/**
 * Splits `s` at top level (outside (), [], {}, `\{ \}` and `\begin…\end`) wherever `sep` matches at
 * the cursor; returns the pieces and the separators found.
 */
export function splitTop(s: string, sep: RegExp): { parts: string[]; seps: string[] } {
  const parts: string[] = [];
  const seps: string[] = [];
  const sticky = new RegExp(sep.source.replace(/^\^/, ''), 'y');
  const command = /\\[a-zA-Z]+/y;
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s.startsWith('\\begin', i)) depth++;
    else if (s.startsWith('\\end', i)) depth--;
    const ch = s[i];
    if (ch === '\\' && (s[i + 1] === '{' || s[i + 1] === '}')) {
      depth += s[i + 1] === '{' ? 1 : -1;
      i++;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    else if (depth === 0) {
      sticky.lastIndex = i;
      const m = sticky.exec(s);
      if (m && m[0].length > 0) {
        parts.push(s.slice(start, i).trim());
        seps.push(m[0].trim());
        i += m[0].length - 1;
        start = i + 1;
        continue;
      }
    }
    if (ch === '\\') {
      command.lastIndex = i;
      i += (command.exec(s)?.[0].length ?? 2) - 1;
    }
  }
  parts.push(s.slice(start).trim());
  return { parts, seps };
}

// Whether the bracket opening at 0 closes exactly at the end (so `(a)(b)` is not one group).
function wrapsWhole(s: string, closeLen: number): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && (s[i + 1] === '{' || s[i + 1] === '}')) {
      depth += s[i + 1] === '{' ? 1 : -1;
      i++;
    } else if (ch === '\\') continue;
    else if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    if (depth === 0 && i < s.length - 1 && i < s.length - closeLen) return false;
  }
  return depth === 0;
}

/** Whether an answer is words (`Monday`, `\text{odd}`), not mathematics. */
export function looksLikeText(s: string): boolean {
  const bare = s.replace(/\\(?:begin|end)\s*\{[a-zA-Z*]*\}/g, ' ').replace(/\\[a-zA-Z]+/g, ' ').replace(/_\{[^{}]*\}|_[a-zA-Z0-9]/g, ' ');
  return /[a-zA-Z]{3,}/.test(bare);
}

/**
 * Reads a normalised answer; `null` when it cannot be read (unbalanced, unknown commands).
 *
 * @example
 * ```ts
 * readAnswer('(-\\infty, 2] \\cup (3, 5)'); // { kind: 'union', parts: [interval, tuple] }
 * ```
 */
export function readAnswer(input: string): AnswerValue | null {
  const s = input.trim().replace(/^=\s*/, '');
  if (s === '') return null;
  if (/^(?:\\emptyset|\\\{\s*\\\}|\{\s*\})$/.test(s)) return { kind: 'set', items: [] };
  if (looksLikeText(s)) return { kind: 'text', key: textKey(s) };
  const union = splitTop(s, /^\\cup(?![a-zA-Z])/);
  if (union.parts.length > 1) return all(union.parts, unionOf);
  const member = splitTop(s, /^\\in(?![a-zA-Z])/);
  if (member.parts.length > 1) return readAnswer(member.parts[member.parts.length - 1]);
  const list = splitTop(s, /^,/);
  if (list.parts.length > 1) return all(list.parts, (items) => ({ kind: 'set', items }));
  const rel = splitTop(s, RELATION);
  if (rel.parts.length > 1) return all(rel.parts, (sides) => ({ kind: 'relation', sides, ops: rel.seps as RelationOp[] }));
  return readGroup(s);
}

// A union of finite sets is one finite set: {1, 3} ∪ {2, 4} = {1, 2, 3, 4}.
function unionOf(parts: AnswerValue[]): AnswerValue {
  const finite = parts.filter((p) => p.kind === 'set');
  const rest = parts.filter((p) => p.kind !== 'set');
  const merged: AnswerValue[] = finite.length > 0 ? [{ kind: 'set', items: finite.flatMap((p) => (p.kind === 'set' ? p.items : [])) }] : [];
  return rest.length === 0 ? merged[0] : { kind: 'union', parts: [...rest, ...merged] };
}

function all(parts: string[], make: (values: AnswerValue[]) => AnswerValue): AnswerValue | null {
  const values = parts.map(readAnswer);
  if (!values.every((v): v is AnswerValue => v !== null)) return null;
  // In a list, `a ± b` stands for its two values: {1 ± √5, −2} has three elements.
  return make(values.flatMap((v) => (v.kind === 'set' && v.plusMinus ? v.items : [v])));
}

// One item with no top-level comma, relation or union: a bracketed group, a matrix, or a scalar.
function readGroup(s: string): AnswerValue | null {
  const matrix = readMatrix(s);
  if (matrix !== undefined) return matrix;
  if (s.startsWith('\\{') && s.endsWith('\\}') && wrapsWhole(s, 2)) return readSetBody(s.slice(2, -2));
  const first = s[0];
  const last = s[s.length - 1];
  if (first === '{' && last === '}' && wrapsWhole(s, 1)) {
    const inner = splitTop(s.slice(1, -1), /^,/).parts;
    return inner.length > 1 ? readSetBody(s.slice(1, -1)) : readAnswer(s.slice(1, -1));
  }
  if ((first === '(' || first === '[') && (last === ')' || last === ']') && wrapsWhole(s, 1)) {
    const items = splitTop(s.slice(1, -1), /^,/).parts;
    if (items.length === 1) return first === '(' && last === ')' ? readAnswer(items[0]) : readScalar(s);
    if (items.length === 2 && (first === '[' || last === ']')) {
      const [lo, hi] = items.map(tryExpr);
      if (lo && hi) return { kind: 'interval', lo, hi, loClosed: first === '[', hiClosed: last === ']' };
    }
    return all(items, (values) => ({ kind: 'tuple', items: values, paren: first === '(' && last === ')' }));
  }
  return readScalar(s);
}

function readSetBody(body: string): AnswerValue | null {
  if (body.trim() === '') return { kind: 'set', items: [] };
  return all(splitTop(body, /^,/).parts, (items) => ({ kind: 'set', items }));
}

// `\begin{pmatrix} a & b \\ c & d \end{pmatrix}` (also bmatrix, matrix, array, …), maybe bracketed.
// `undefined` when `s` is not a matrix; `null` when it is one that cannot be read.
function readMatrix(s: string): AnswerValue | null | undefined {
  const m = /^[([]?\s*\\begin\{([a-zA-Z]*matrix|array)\}(?:\{[^{}]*\})?([\s\S]*)\\end\{\1\}\s*[)\]]?$/.exec(s);
  if (!m) return undefined;
  const rows = m[2]
    .split(/\\\\/)
    .map((r) => r.replace(/\\hline/g, '').trim())
    .filter((r) => r !== '')
    .map((r) => r.split('&').map(tryExpr));
  if (rows.length === 0 || rows.some((r) => r.some((e) => e === null) || r.length !== rows[0].length)) return null;
  return { kind: 'matrix', rows: rows as Expr[][] };
}

function tryExpr(s: string): Expr | null {
  try {
    return parseExpr(s.trim());
  } catch (e) {
    if (e instanceof ExprSyntaxError) return null;
    throw e;
  }
}

// A number or expression, with a trailing percent sign, a ratio `a:b`, or ± (read as the set of both).
function readScalar(input: string): AnswerValue | null {
  let s = input.trim();
  const percent = /%$/.test(s);
  if (percent) s = s.replace(/\s*%$/, '').trim();
  const ratio = splitTop(s, /^:/);
  if (ratio.parts.length === 2 && ratio.parts.every((p) => p !== '')) s = `(${ratio.parts[0]})/(${ratio.parts[1]})`;
  const expr = tryExpr(s);
  if (!expr) return null;
  if (hasPlusMinus(expr)) {
    return { kind: 'set', plusMinus: true, items: expandPlusMinus(expr).map((e) => ({ kind: 'expr', expr: e, src: '', percent })) };
  }
  return { kind: 'expr', expr, src: s.replace(/\s+/g, ''), percent };
}
