// Equality of two scalar answers (numbers or expressions): exact rationals when both sides are
// rational, both sides rounded to `precision` decimals when either is written as a decimal
// (Math-Verify's float rule), irrational constants to a relative tolerance, and expressions with
// variables at seeded random points.
import { baseValue, evaluate, exactValue, freeSymbols, hasDecimal, type Complex } from './math/evaluate.js';
import type { Expr } from './math/expr.js';
import { rationalEquals, type Rational } from './rational.js';
import { mulberry32 } from './rng.js';

/** The checked options every comparison needs. */
export interface ScalarContext {
  points: number;
  seed: number;
  tolerance: number;
  precision: number;
}

/** A scalar answer as read by `readAnswer`. */
export interface ScalarValue {
  kind: 'expr';
  expr: Expr;
  src: string;
  percent: boolean;
}

/**
 * Gold-vs-predicted scalar equality. A percentage on one side only matches the bare number or a
 * hundredth of it (`50%` = `50` = `0.5`).
 */
export function compareScalars(gold: ScalarValue, pred: ScalarValue, ctx: ScalarContext): boolean {
  if (gold.src !== '' && gold.src === pred.src && gold.percent === pred.percent) return true;
  if (gold.percent !== pred.percent) {
    const [pct, plain] = gold.percent ? [gold.expr, pred.expr] : [pred.expr, gold.expr];
    const hundredth: Expr = { t: 'div', num: pct, den: { t: 'num', v: { p: 100n, q: 1n }, decimal: false } };
    return exprEqual(pct, plain, ctx) || exprEqual(hundredth, plain, ctx);
  }
  return exprEqual(gold.expr, pred.expr, ctx);
}

function exprEqual(a: Expr, b: Expr, ctx: ScalarContext): boolean {
  if (a.t === 'base' || b.t === 'base') return basesEqual(a, b);
  const decimal = hasDecimal(a) || hasDecimal(b);
  const vars = [...new Set([...freeSymbols(a), ...freeSymbols(b)])].sort();
  if (vars.length === 0) {
    const ea = exactValue(a);
    const eb = exactValue(b);
    if (ea && eb) return decimal ? roundRational(ea, ctx.precision) === roundRational(eb, ctx.precision) : rationalEquals(ea, eb);
    return numbersEqual(evaluate(a, {}), evaluate(b, {}), decimal, ctx);
  }
  // A constant beyond double range (1/2006!) cannot be told apart from 0 at float points.
  for (const side of [a, b]) {
    const exact = freeSymbols(side).length === 0 ? exactValue(side) : null;
    const approx = exact && evaluate(side, {}).re;
    if (exact && exact.p !== 0n && (approx === 0 || !Number.isFinite(approx))) return false;
  }
  let usable = 0;
  // Points in [-3, 3), then more in (0, 1) where domains are narrow (arcsin, logs of x − 2, …).
  for (const at of [...randomPoints(vars, ctx, 6, -3), ...randomPoints(vars, { ...ctx, seed: ctx.seed + 1 }, 1, 0)]) {
    if (usable >= ctx.points) break;
    const u = evaluate(a, at);
    const v = evaluate(b, at);
    if (!finite(u) || !finite(v)) continue;
    const tolerance = Math.max(ctx.tolerance, 1e-7);
    if (close(u.re, v.re, tolerance) && close(u.im, v.im, tolerance)) usable++;
    // Off the real line the two may pick different branches (x^{2/3} vs ∛(x²) at x < 0): skip.
    else if (u.im === 0 && v.im === 0) return false;
  }
  return usable * 2 >= ctx.points && usable > 0;
}

// `204_5` equals `204_5` (or `0204_5`) and the bare digits `204`, never its decimal value 54: a
// question that asks for base 5 is not answered by base 10.
function basesEqual(a: Expr, b: Expr): boolean {
  if (a.t === 'base' && b.t === 'base') {
    const va = baseValue(a.digits, a.base);
    return a.base === b.base && va !== null && va === baseValue(b.digits, b.base);
  }
  const [based, other] = a.t === 'base' ? [a, b] : [b as Extract<Expr, { t: 'base' }>, a];
  if (based.t !== 'base' || other.t !== 'num' || other.decimal || other.v.q !== 1n || other.v.p < 0n) return false;
  return baseValue(based.digits, based.base) !== null && based.digits.replace(/^0+(?=.)/, '') === other.v.p.toString();
}

// Round half away from zero to `digits` decimals, exactly.
function roundRational(r: Rational, digits: number): bigint {
  const scaled = (r.p < 0n ? -r.p : r.p) * 10n ** BigInt(digits);
  const rounded = (2n * scaled + r.q) / (2n * r.q);
  return r.p < 0n ? -rounded : rounded;
}

const finite = (z: Complex): boolean => Number.isFinite(z.re) && Number.isFinite(z.im);

function close(u: number, v: number, tolerance: number): boolean {
  return u === v || Math.abs(u - v) <= tolerance * Math.max(1, Math.abs(u), Math.abs(v));
}

function roundedEqual(u: number, v: number, digits: number): boolean {
  const scale = 10 ** digits;
  if (Math.abs(u * scale) > 2 ** 52 || Math.abs(v * scale) > 2 ** 52) return close(u, v, 1e-15);
  return Math.round(u * scale) === Math.round(v * scale);
}

function numbersEqual(u: Complex, v: Complex, decimal: boolean, ctx: ScalarContext): boolean {
  if ([u.re, u.im, v.re, v.im].some(Number.isNaN)) return false;
  if (!finite(u) || !finite(v)) return u.re === v.re && u.im === v.im;
  if (decimal) return roundedEqual(u.re, v.re, ctx.precision) && roundedEqual(u.im, v.im, ctx.precision);
  return close(u.re, v.re, ctx.tolerance) && close(u.im, v.im, ctx.tolerance);
}

// `ctx.points` seeded points, each variable uniform in [from, from + width) (rounded to 1e-6, never 0).
function randomPoints(vars: string[], ctx: ScalarContext, width = 6, from = -3): Record<string, number>[] {
  const rand = mulberry32(ctx.seed);
  const out: Record<string, number>[] = [];
  for (let p = 0; p < ctx.points; p++) {
    const at: Record<string, number> = {};
    for (const name of vars) at[name] = Math.round((from + rand() * width) * 1e6) / 1e6 || 0.5;
    out.push(at);
  }
  return out;
}

/**
 * The constant k with g = k·p at every random point (both sides of two relations moved to one
 * side), or null when there is none. Points where both are zero are skipped.
 */
export function constantRatio(g: Expr, p: Expr, ctx: ScalarContext): number | null {
  const vars = [...new Set([...freeSymbols(g), ...freeSymbols(p)])].sort();
  const points = vars.length === 0 ? [{}] : randomPoints(vars, ctx);
  let k: number | null = null;
  let usable = 0;
  for (const at of points) {
    const u = evaluate(g, at);
    const v = evaluate(p, at);
    if (!finite(u) || !finite(v) || Math.abs(u.im) > 1e-12 || Math.abs(v.im) > 1e-12) continue;
    const zu = Math.abs(u.re) <= 1e-12;
    const zv = Math.abs(v.re) <= 1e-12;
    if (zu && zv) continue;
    if (zu !== zv) return null;
    const r = u.re / v.re;
    if (k === null) k = r;
    else if (!close(r, k, 1e-7)) return null;
    usable++;
  }
  if (vars.length === 0) return k ?? 1;
  return usable * 2 >= points.length ? k : null;
}
