// Mathematical equivalence of a predicted answer and a reference (R1 §2.2.2 "accuracy rewards"),
// with Math-Verify's rules: gold-directed unwrapping of assignments, relations compared up to
// flipping and scaling, sets order-free and duplicate-free, tuples ordered, intervals by endpoints
// and brackets, floats rounded to a precision, everything else exactly or at random points.
import { checkNumber } from './errors.js';
import { referenceAnswer } from './extract.js';
import { freeSymbols } from './math/evaluate.js';
import type { Expr } from './math/expr.js';
import { normalizeAnswer } from './normalize.js';
import { readings } from './readings.js';
import { compareScalars, constantRatio, type ScalarContext } from './scalar.js';
import { readAnswer, type AnswerValue, type RelationOp } from './structure.js';
import { checkOptionKeys } from './option-keys.js';

/**
 * Options of {@link isMathEquivalent}.
 *
 * @example
 * ```ts
 * import { isMathEquivalent, type MathEquivalenceOptions } from '@r1-ts/rewards';
 * const opts: MathEquivalenceOptions = { points: 8, seed: 7, precision: 4 };
 * isMathEquivalent('0.3333', '\\frac13', opts); // true (rounded to 4 decimals)
 * ```
 */
export interface MathEquivalenceOptions {
  /** Random points at which expressions with variables are compared (default 6). */
  points?: number;
  /** Seed of those points (default 20250122): the same inputs always give the same verdict. */
  seed?: number;
  /** Relative tolerance for irrational constants compared in floating point (default 1e-9). */
  tolerance?: number;
  /**
   * Decimal places to which both sides are rounded when either is written as a decimal (default 6,
   * Math-Verify's `float_rounding`): `0.333333` = `1/3`, but `0.33` ≠ `1/3`.
   */
  precision?: number;
}

/** Checks options once; returns the comparison context. */
export function equivalenceContext(options: MathEquivalenceOptions = {}): ScalarContext {
  return {
    points: checkNumber('points', options.points ?? 6, { min: 1, integer: true }),
    seed: checkNumber('seed', options.seed ?? 20250122, { integer: true }),
    tolerance: checkNumber('tolerance', options.tolerance ?? 1e-9, { min: 0 }),
    precision: checkNumber('precision', options.precision ?? 6, { min: 0, integer: true }),
  };
}

/**
 * Reads an answer (a `\boxed{}` inside is taken first) into every way it can be understood: a
 * decimal comma makes `1000,99` both 1000.99 and the list {1000, 99}. Empty when it cannot be read.
 */
export function readAnswerValues(raw: string): AnswerValue[] {
  const s = normalizeAnswer(referenceAnswer(raw) ?? raw);
  if (s.length > MAX_ANSWER_CHARS) return [];
  try {
    return readings(s)
      .map(readAnswer)
      .filter((v): v is AnswerValue => v !== null);
  } catch (e) {
    // Nesting deep enough to exhaust the stack: unreadable, never a crashed run.
    if (e instanceof RangeError) return [];
    throw e;
  }
}

// A final answer longer than this is not an answer (and would only cost time to read).
const MAX_ANSWER_CHARS = 4000;

/**
 * True when `predicted` denotes the same mathematical object as `reference` (the gold answer).
 * Like Math-Verify's `verify`, the gold side leads: a bare gold `3` accepts `x = 3`, a gold `x = 3`
 * accepts `3`, a gold inequality `-1 < x < 2` accepts the interval `(-1, 2)`. See the guide's
 * accuracy section for every rule.
 *
 * @param predicted - The answer extracted from the completion.
 * @param reference - The gold answer; it decides how `predicted` is read (a bare value, an equation, a set, an interval, ...).
 * @param options - Numeric comparison: `points` and `seed` of the random evaluation of expressions, `tolerance` and `precision` of number comparison.
 *
 * @example
 * ```ts
 * import { isMathEquivalent } from '@r1-ts/rewards';
 * isMathEquivalent('11,\\!111,\\!100', '11111100'); // true
 * isMathEquivalent('5 \\geq x', 'x \\leq 5'); // true
 * isMathEquivalent('(2, 1)', '(1, 2)'); // false
 * ```
 */
export function isMathEquivalent(predicted: string, reference: string, options: MathEquivalenceOptions = {}): boolean {
  checkOptionKeys('isMathEquivalent', options, { points: true, seed: true, tolerance: true, precision: true });
  const ctx = equivalenceContext(options);
  const golds = readAnswerValues(reference);
  const preds = readAnswerValues(predicted);
  return golds.some((g) => preds.some((p) => valuesEqual(g, p, ctx)));
}

/** Gold-directed equality of two read answers (Math-Verify's `sympy_expr_eq` rules). */
export function valuesEqual(gold: AnswerValue, pred: AnswerValue, ctx: ScalarContext): boolean {
  try {
    return compare(gold, pred, ctx);
  } catch (e) {
    // Deep recursion on adversarial input: not equal, never a crashed run.
    if (e instanceof RangeError) return false;
    throw e;
  }
}

function compare(gold: AnswerValue, pred: AnswerValue, ctx: ScalarContext): boolean {
  const goldAssign = isAssignment(gold);
  const predEquation = isEquation(pred);
  if (goldAssign) gold = collapseChain(gold as Relation);
  if (isAssignment(pred)) pred = collapseChain(pred as Relation);
  if (predEquation && !isEquation(gold)) pred = lastSide(pred as Relation);
  else if (goldAssign && !predEquation) gold = lastSide(gold as Relation);

  if (gold.kind === 'relation' && pred.kind !== 'relation' && isSetLike(pred)) gold = relationAsSet(gold) ?? gold;
  if (gold.kind === 'relation' || pred.kind === 'relation') {
    return gold.kind === 'relation' && pred.kind === 'relation' && relationsEqual(gold, pred, ctx);
  }
  if (gold.kind === 'text' || pred.kind === 'text') return gold.kind === 'text' && pred.kind === 'text' && gold.key === pred.key;
  if (gold.kind === 'expr' && pred.kind === 'expr') return compareScalars(gold, pred, ctx);
  if (gold.kind === 'matrix' || pred.kind === 'matrix') return matricesEqual(gold, pred, ctx);
  return collectionsEqual(gold, pred, ctx);
}

type Relation = Extract<AnswerValue, { kind: 'relation' }>;

const FLIP: Record<RelationOp, RelationOp> = { '=': '=', '\\ne': '\\ne', '<': '>', '>': '<', '\\le': '\\ge', '\\ge': '\\le' };

function isEquation(v: AnswerValue): boolean {
  return v.kind === 'relation' && v.ops.every((op) => op === '=');
}

// `x = …`, `f(x) = …`, `(p, q) = …`, `|AB| = …`, `A:B = …`: an equation whose left side is only symbols.
function isAssignment(v: AnswerValue): boolean {
  return isEquation(v) && symbolsOnly((v as Relation).sides[0]);
}

function symbolsOnly(v: AnswerValue): boolean {
  if (v.kind === 'tuple') return v.items.every(symbolsOnly);
  return v.kind === 'expr' && !v.percent && exprSymbolsOnly(v.expr);
}

function exprSymbolsOnly(e: Expr): boolean {
  if (e.t === 'sym') return true;
  if (e.t === 'mul') return e.factors.every(exprSymbolsOnly);
  if (e.t === 'div') return exprSymbolsOnly(e.num) && exprSymbolsOnly(e.den);
  if (e.t === 'fn' && e.name === 'abs') return exprSymbolsOnly(e.args[0]);
  return false;
}

// `z = 1 + 1 = 2` → `z = 2`.
function collapseChain(r: Relation): AnswerValue {
  return r.sides.length <= 2 ? r : { kind: 'relation', sides: [r.sides[0], r.sides[r.sides.length - 1]], ops: ['='] };
}

function lastSide(r: Relation): AnswerValue {
  return r.sides[r.sides.length - 1];
}

function isSetLike(v: AnswerValue): boolean {
  return v.kind === 'interval' || v.kind === 'union' || (v.kind === 'tuple' && v.paren && v.items.length === 2) || v.kind === 'set';
}

function relationsEqual(gold: Relation, pred: Relation, ctx: ScalarContext): boolean {
  if (gold.ops.length !== pred.ops.length) return false;
  const sameWay = gold.ops.every((op, k) => pairEqual(gold.sides[k], op, gold.sides[k + 1], pred.sides[k], pred.ops[k], pred.sides[k + 1], ctx));
  if (sameWay || gold.ops.length === 1) return sameWay;
  // A chain read the other way round: `3 > x > -2` is `-2 < x < 3`.
  const n = pred.ops.length;
  return gold.ops.every((op, k) => pairEqual(gold.sides[k], op, gold.sides[k + 1], pred.sides[n - k], FLIP[pred.ops[n - 1 - k]], pred.sides[n - 1 - k], ctx));
}

// One relation `a op b` against `c op2 d`: the same relation up to swapping sides and multiplying
// by a constant (negative flips an inequality).
function pairEqual(a: AnswerValue, op: RelationOp, b: AnswerValue, c: AnswerValue, op2: RelationOp, d: AnswerValue, ctx: ScalarContext): boolean {
  if (a.kind !== 'expr' || b.kind !== 'expr' || c.kind !== 'expr' || d.kind !== 'expr') {
    if (op === op2 && compare(a, c, ctx) && compare(b, d, ctx)) return true;
    return op === FLIP[op2] && compare(a, d, ctx) && compare(b, c, ctx);
  }
  const g: Expr = { t: 'add', terms: [a.expr, { t: 'neg', x: b.expr }] };
  const p: Expr = { t: 'add', terms: [c.expr, { t: 'neg', x: d.expr }] };
  const k = constantRatio(g, p, ctx);
  if (k === null) return false;
  if (op === '=' || op === '\\ne') return op === op2;
  return (op === op2 && k > 0) || (op === FLIP[op2] && k < 0);
}


// A one-variable inequality as the set it describes: `-1 < x \le 2` → (-1, 2]; `x \ge 2` → [2, ∞).
function relationAsSet(r: Relation): AnswerValue | null {
  const inf: Expr = { t: 'const', name: 'inf' };
  const negInf: Expr = { t: 'neg', x: inf };
  let sides = r.sides;
  let ops = r.ops;
  if (sides.some((s) => s.kind !== 'expr')) return null;
  const exprOf = (s: AnswerValue) => (s as Extract<AnswerValue, { kind: 'expr' }>).expr;
  if (ops.length === 1 && ops[0] === '\\ne' && hasSymbols(exprOf(sides[0])) !== hasSymbols(exprOf(sides[1]))) {
    const c = hasSymbols(exprOf(sides[0])) ? exprOf(sides[1]) : exprOf(sides[0]);
    return {
      kind: 'union',
      parts: [
        { kind: 'interval', lo: negInf, hi: c, loClosed: false, hiClosed: false },
        { kind: 'interval', lo: c, hi: inf, loClosed: false, hiClosed: false },
      ],
    };
  }
  if (ops.some((op) => op === '=' || op === '\\ne')) return null;
  if (ops[0] === '>' || ops[0] === '\\ge') {
    sides = [...sides].reverse();
    ops = [...ops].reverse().map((op) => FLIP[op]);
  }
  if (ops.some((op) => op === '>' || op === '\\ge')) return null;
  const exprs = sides.map((s) => (s as Extract<AnswerValue, { kind: 'expr' }>).expr);
  if (exprs.length === 2) {
    const varFirst = hasSymbols(exprs[0]);
    if (varFirst === hasSymbols(exprs[1])) return null;
    return varFirst
      ? { kind: 'interval', lo: negInf, hi: exprs[1], loClosed: false, hiClosed: ops[0] === '\\le' }
      : { kind: 'interval', lo: exprs[0], hi: inf, loClosed: ops[0] === '\\le', hiClosed: false };
  }
  if (exprs.length === 3 && !hasSymbols(exprs[0]) && hasSymbols(exprs[1]) && !hasSymbols(exprs[2])) {
    return { kind: 'interval', lo: exprs[0], hi: exprs[2], loClosed: ops[0] === '\\le', hiClosed: ops[1] === '\\le' };
  }
  return null;
}

const hasSymbols = (e: Expr): boolean => freeSymbols(e).length > 0;

function matricesEqual(gold: AnswerValue, pred: AnswerValue, ctx: ScalarContext): boolean {
  if (gold.kind !== 'matrix' || pred.kind !== 'matrix') return false;
  if (gold.rows.length !== pred.rows.length || gold.rows[0].length !== pred.rows[0].length) return false;
  return gold.rows.every((row, i) => row.every((cell, j) => compareScalars(scalar(cell), scalar(pred.rows[i][j]), ctx)));
}

const scalar = (expr: Expr): Extract<AnswerValue, { kind: 'expr' }> => ({ kind: 'expr', expr, src: '', percent: false });

// Sets, tuples, intervals and unions; a lone value counts as a one-element set.
function collectionsEqual(gold: AnswerValue, pred: AnswerValue, ctx: ScalarContext): boolean {
  const g = gold.kind === 'expr' ? { kind: 'set' as const, items: [gold] } : gold;
  const p = pred.kind === 'expr' ? { kind: 'set' as const, items: [pred] } : pred;
  if (g.kind === 'interval' || p.kind === 'interval') return intervalsEqual(g, p, ctx);
  if (g.kind === 'union' || p.kind === 'union') {
    return g.kind === 'union' && p.kind === 'union' && matchAll(g.parts, p.parts, ctx);
  }
  if (g.kind === 'tuple' && p.kind === 'tuple') return inOrder(g.items, p.items, ctx);
  if (g.kind === 'tuple' && p.kind === 'set') return inOrder(g.items, p.items, ctx); // Math-Verify keeps the written order
  if (g.kind === 'set' && (p.kind === 'set' || p.kind === 'tuple')) {
    return matchAll(dedupe(g.items, ctx), dedupe(p.items, ctx), ctx);
  }
  return false;
}

function intervalsEqual(g: AnswerValue, p: AnswerValue, ctx: ScalarContext): boolean {
  const ends = (v: AnswerValue) =>
    v.kind === 'interval'
      ? v
      : v.kind === 'tuple' && v.paren && v.items.length === 2 && v.items.every((x) => x.kind === 'expr')
        ? { lo: (v.items[0] as { expr: Expr }).expr, hi: (v.items[1] as { expr: Expr }).expr, loClosed: false, hiClosed: false }
        : null;
  const a = ends(g);
  const b = ends(p);
  if (!a || !b || a.loClosed !== b.loClosed || a.hiClosed !== b.hiClosed) return false;
  return compareScalars(scalar(a.lo), scalar(b.lo), ctx) && compareScalars(scalar(a.hi), scalar(b.hi), ctx);
}

function inOrder(g: AnswerValue[], p: AnswerValue[], ctx: ScalarContext): boolean {
  return g.length === p.length && g.every((x, k) => compare(x, p[k], ctx));
}

// A set listed with a duplicate is the same set: {1, 1, 2} = {1, 2}.
function dedupe(items: AnswerValue[], ctx: ScalarContext): AnswerValue[] {
  const out: AnswerValue[] = [];
  for (const item of items) if (!out.some((o) => compare(o, item, ctx) && compare(item, o, ctx))) out.push(item);
  return out;
}

// Every gold item matched by a distinct predicted item, same count.
function matchAll(g: AnswerValue[], p: AnswerValue[], ctx: ScalarContext): boolean {
  if (g.length !== p.length) return false;
  const used = new Array<boolean>(p.length).fill(false);
  return g.every((item) => {
    const j = p.findIndex((other, k) => !used[k] && compare(item, other, ctx));
    if (j < 0) return false;
    used[j] = true;
    return true;
  });
}
