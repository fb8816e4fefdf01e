// Mathematical equivalence of two final answers (R1 §2.2.2 "accuracy rewards"): exact rationals first,
// then LaTeX parsed and evaluated by @cortex-js/compute-engine — numerically for constants, and at
// seeded random points for expressions with variables.
import { ComputeEngine, type BoxedExpression } from '@cortex-js/compute-engine';
import { checkNumber } from './errors.js';
import { normalizeAnswer, splitPercent, textKey } from './normalize.js';
import { parseRational, percentOf, rationalEquals } from './rational.js';
import { mulberry32 } from './rng.js';
import { parseStructure, type AnswerStructure } from './structure.js';

/**
 * Options of {@link isMathEquivalent}.
 *
 * @example
 * ```ts
 * import { isMathEquivalent, type MathEquivalenceOptions } from '@r1-ts/rewards';
 * const opts: MathEquivalenceOptions = { points: 8, seed: 7 };
 * isMathEquivalent('x^2-1', '(x-1)(x+1)', opts); // true
 * ```
 */
export interface MathEquivalenceOptions {
  /** Random points at which expressions with variables are compared (default 6). */
  points?: number;
  /** Seed of those points (default 20250122): the same inputs always give the same verdict. */
  seed?: number;
  /** Relative tolerance for values the engine evaluates in floating point (default 1e-9). */
  tolerance?: number;
}

let engine: ComputeEngine | undefined;
const parsed = new Map<string, BoxedExpression>();

function parse(latex: string): BoxedExpression {
  let expr = parsed.get(latex);
  if (expr === undefined) {
    engine ??= new ComputeEngine();
    if (parsed.size >= 2048) parsed.clear(); // bounded memo: references repeat across a group
    expr = engine.parse(latex);
    parsed.set(latex, expr);
  }
  return expr;
}

/**
 * True when `predicted` and `reference` denote the same mathematical object. Both are normalised
 * first (see the README: `$`, `\text{}`/units, thousands separators, `\dfrac`, `x = …`, a trailing
 * period). Then:
 * - plain numbers, decimals and fractions compare exactly (`0.5` = `.5` = `1/2` = `\frac12`);
 * - a percentage `p%` on one side only matches `p` or `p/100` on the other (`50%` = `0.5` = `50`);
 * - `\{a, b\}` and bare lists `a, b` compare as multisets; `(a, b)` as ordered tuples; intervals
 *   `[a, b)` compare bracket kinds and endpoints;
 * - other LaTeX is parsed by the compute engine: constants compare numerically (`\sqrt{8}` =
 *   `2\sqrt{2}`), expressions with variables at seeded random points (`x^2-1` = `(x-1)(x+1)`);
 * - what does not parse (words such as `Monday`) compares as text, ignoring case and spaces.
 *
 * @example
 * ```ts
 * import { isMathEquivalent } from '@r1-ts/rewards';
 * isMathEquivalent('1{,}000', '1000'); // true
 * isMathEquivalent('\\{2, 1\\}', '\\{1, 2\\}'); // true
 * isMathEquivalent('(2, 1)', '(1, 2)'); // false
 * ```
 */
export function isMathEquivalent(predicted: string, reference: string, options: MathEquivalenceOptions = {}): boolean {
  const points = checkNumber('points', options.points ?? 6, { min: 1, integer: true });
  const seed = checkNumber('seed', options.seed ?? 20250122, { integer: true });
  const tolerance = checkNumber('tolerance', options.tolerance ?? 1e-9, { min: 0 });
  const ctx: Ctx = { points, seed, tolerance };
  return structuresEqual(parseStructure(normalizeAnswer(predicted)), parseStructure(normalizeAnswer(reference)), ctx);
}

interface Ctx {
  points: number;
  seed: number;
  tolerance: number;
}

function structuresEqual(a: AnswerStructure, b: AnswerStructure, ctx: Ctx): boolean {
  if (a.kind === 'scalar' && b.kind === 'scalar') return scalarsEqual(a.value, b.value, ctx);
  if (a.kind === 'scalar' || b.kind === 'scalar') return false;
  if (a.items.length !== b.items.length) return false;
  if (a.kind === 'set' && b.kind === 'set') return multisetEqual(a.items, b.items, ctx);
  if (a.kind === 'interval' && b.kind === 'interval' && (a.left !== b.left || a.right !== b.right)) return false;
  if (a.kind !== b.kind) return false;
  return a.items.every((item, i) => structuresEqual(parseStructure(item), parseStructure(b.items[i]), ctx));
}

function multisetEqual(a: string[], b: string[], ctx: Ctx): boolean {
  const used = new Array<boolean>(b.length).fill(false);
  return a.every((item) => {
    const j = b.findIndex((other, k) => !used[k] && structuresEqual(parseStructure(item), parseStructure(other), ctx));
    if (j < 0) return false;
    used[j] = true;
    return true;
  });
}

function scalarsEqual(a: string, b: string, ctx: Ctx): boolean {
  const pa = splitPercent(a);
  const pb = splitPercent(b);
  if (pa.percent === pb.percent) return valuesEqual(pa.body, pb.body, ctx, false);
  // One side is a percentage: `p%` matches `p` itself or `p/100`.
  const [pct, plain] = pa.percent ? [pa.body, pb.body] : [pb.body, pa.body];
  return valuesEqual(pct, plain, ctx, false) || valuesEqual(pct, plain, ctx, true);
}

// Compares two scalar answers; `scaleFirst` divides the first by 100.
function valuesEqual(a: string, b: string, ctx: Ctx, scaleFirst: boolean): boolean {
  const ra = parseRational(a);
  const rb = parseRational(b);
  if (ra && rb) return rationalEquals(scaleFirst ? percentOf(ra) : ra, rb);
  if (looksLikeText(a) || looksLikeText(b)) return !scaleFirst && textKey(a) === textKey(b);
  try {
    return expressionsEqual(a, b, ctx, scaleFirst);
  } catch {
    // The engine throws on some inputs a policy can write (`G!`: the factorial of Catalan's constant
    // fails converting it to a BigInt). A reward must not end a run: what it cannot evaluate compares as text.
    return !scaleFirst && textKey(a) === textKey(b);
  }
}

// Compares two scalar answers through the compute engine (may throw).
function expressionsEqual(a: string, b: string, ctx: Ctx, scaleFirst: boolean): boolean {
  let ea = parse(a);
  const eb = parse(b);
  if (!ea.isValid || !eb.isValid) return !scaleFirst && textKey(a) === textKey(b);
  if (scaleFirst) ea = parse(`\\frac{${a}}{100}`);
  const vars = [...new Set([...ea.unknowns, ...eb.unknowns])].sort();
  if (vars.length === 0) return numbersClose(ea.N(), eb.N(), ctx.tolerance) ?? false;
  return agreeAtRandomPoints(ea, eb, vars, ctx);
}

// A run of three letters outside a command is a word (`Monday`), not a product of variables.
function looksLikeText(s: string): boolean {
  return /(?<![\\a-zA-Z])[a-zA-Z]{3,}/.test(s);
}

// Compares two evaluated values (complex allowed); `null` when either is not a number.
function numbersClose(x: BoxedExpression, y: BoxedExpression, tolerance: number): boolean | null {
  const parts = [x.re, x.im, y.re, y.im];
  if (parts.some((v) => typeof v !== 'number' || Number.isNaN(v))) return null;
  const close = (u: number, v: number) =>
    u === v || Math.abs(u - v) <= tolerance * Math.max(1, Math.abs(u), Math.abs(v));
  return close(parts[0], parts[2]) && close(parts[1], parts[3]);
}

// Expressions with variables: equal when they agree at every seeded random point where both are
// defined, and at least half of the points are usable.
function agreeAtRandomPoints(a: BoxedExpression, b: BoxedExpression, vars: string[], ctx: Ctx): boolean {
  const rand = mulberry32(ctx.seed);
  let usable = 0;
  for (let p = 0; p < ctx.points; p++) {
    const at: Record<string, number> = {};
    for (const v of vars) at[v] = Math.round((rand() * 6 - 3) * 1e6) / 1e6 || 0.5; // in [-3, 3)
    const verdict = numbersClose(a.subs(at).N(), b.subs(at).N(), Math.max(ctx.tolerance, 1e-7));
    if (verdict === false) return false;
    if (verdict === true) usable++;
  }
  return usable * 2 >= ctx.points;
}
