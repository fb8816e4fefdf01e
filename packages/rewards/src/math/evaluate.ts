// Evaluation of an Expr: exactly (BigInt rationals) when only rational operations occur, else in
// complex floating point at given variable values. Also the tree queries the comparison needs.
import { add, div, isInteger, mul, powInt, rational, toNumber, type Rational } from '../rational.js';
import type { Expr } from './expr.js';

/** A complex double. */
export interface Complex {
  re: number;
  im: number;
}

// `im || 0` keeps −0 out: atan2(−0, −1) = −π would put √−1 on the wrong branch.
const c = (re: number, im = 0): Complex => ({ re, im: im || 0 });

/** The free variables of an expression, sorted. */
export function freeSymbols(e: Expr, out = new Set<string>()): string[] {
  if (e.t === 'sym') out.add(e.name);
  for (const child of children(e)) freeSymbols(child, out);
  return [...out].sort();
}

/** Whether any numeral in `e` was written with a decimal point. */
export function hasDecimal(e: Expr): boolean {
  return (e.t === 'num' && e.decimal) || children(e).some(hasDecimal);
}

function children(e: Expr): Expr[] {
  switch (e.t) {
    case 'neg':
      return [e.x];
    case 'add':
      return e.terms;
    case 'mul':
      return e.factors;
    case 'div':
      return [e.num, e.den];
    case 'pow':
      return [e.base, e.exp];
    case 'fn':
      return e.args;
    case 'pm':
      return e.a ? [e.a, e.b] : [e.b];
    default:
      return [];
  }
}

/** Whether `e` contains ±. */
export function hasPlusMinus(e: Expr): boolean {
  return e.t === 'pm' || children(e).some(hasPlusMinus);
}

/**
 * Expands every ± into its two signs: `1 \pm \sqrt2` → [1 + √2, 1 − √2]. At most 2^4 variants.
 */
export function expandPlusMinus(e: Expr): Expr[] {
  const pms: Extract<Expr, { t: 'pm' }>[] = [];
  collectPm(e, pms);
  if (pms.length === 0 || pms.length > 4) return [e];
  const out: Expr[] = [];
  for (let mask = 0; mask < 1 << pms.length; mask++) {
    const chosen = new Map(pms.map((node, k) => [node, (mask >> k) & 1 ? -node.sign : node.sign]));
    out.push(replacePm(e, chosen));
  }
  return out;
}

function collectPm(e: Expr, out: Extract<Expr, { t: 'pm' }>[]): void {
  if (e.t === 'pm') out.push(e);
  for (const child of children(e)) collectPm(child, out);
}

function replacePm(e: Expr, chosen: Map<Expr, number>): Expr {
  const r = (x: Expr) => replacePm(x, chosen);
  switch (e.t) {
    case 'pm': {
      const b = chosen.get(e) === 1 ? r(e.b) : ({ t: 'neg', x: r(e.b) } as Expr);
      return e.a ? { t: 'add', terms: [r(e.a), b] } : b;
    }
    case 'neg':
      return { t: 'neg', x: r(e.x) };
    case 'add':
      return { t: 'add', terms: e.terms.map(r) };
    case 'mul':
      return { t: 'mul', factors: e.factors.map(r) };
    case 'div':
      return { t: 'div', num: r(e.num), den: r(e.den) };
    case 'pow':
      return { t: 'pow', base: r(e.base), exp: r(e.exp) };
    case 'fn':
      return { t: 'fn', name: e.name, args: e.args.map(r) };
    default:
      return e;
  }
}

/** The value of a number written in base `base` (`204_5` → 54), or null for a bad digit. */
export function baseValue(digits: string, base: number): bigint | null {
  if (base < 2 || base > 36) return null;
  let v = 0n;
  for (const ch of digits.toLowerCase()) {
    const d = parseInt(ch, 36);
    if (Number.isNaN(d) || d >= base) return null;
    v = v * BigInt(base) + BigInt(d);
  }
  return v;
}

/** Exact value when `e` is built from rationals by + − × ÷, integer powers, factorials, binomials; else null. */
export function exactValue(e: Expr): Rational | null {
  switch (e.t) {
    case 'num':
      return e.v;
    case 'base': {
      const v = baseValue(e.digits, e.base);
      return v === null ? null : rational(v);
    }
    case 'neg': {
      const x = exactValue(e.x);
      return x && rational(-x.p, x.q);
    }
    case 'add': {
      let acc: Rational | null = rational(0n);
      for (const t of e.terms) {
        const v = exactValue(t);
        acc = v && acc && add(acc, v);
      }
      return acc;
    }
    case 'mul': {
      let acc: Rational | null = rational(1n);
      for (const f of e.factors) {
        const v = exactValue(f);
        acc = v && acc && mul(acc, v);
      }
      return acc;
    }
    case 'div': {
      const a = exactValue(e.num);
      const b = exactValue(e.den);
      return a && b && div(a, b);
    }
    case 'pow': {
      const b = exactValue(e.base);
      const x = exactValue(e.exp);
      return b && x && isInteger(x) ? powInt(b, x.p) : null;
    }
    case 'fn':
      return exactFunction(e.name, e.args.map(exactValue));
    default:
      return null;
  }
}

function exactFunction(name: string, args: (Rational | null)[]): Rational | null {
  const [a, b] = args;
  if (name === 'fact' && a && isInteger(a) && a.p >= 0n && a.p <= 5000n) {
    let r = 1n;
    for (let k = 2n; k <= a.p; k++) r *= k;
    return rational(r);
  }
  if (name === 'binom' && a && b && isInteger(a) && isInteger(b) && a.p >= 0n && a.p <= 2000n) {
    if (b.p < 0n || b.p > a.p) return rational(0n);
    let r = 1n;
    for (let k = 0n; k < b.p; k++) r = (r * (a.p - k)) / (k + 1n);
    return rational(r);
  }
  if (name === 'abs' && a) return rational(a.p < 0n ? -a.p : a.p, a.q);
  if (name === 'sqrt' && a && a.p >= 0n) {
    const p = isqrt(a.p);
    const q = isqrt(a.q);
    return p * p === a.p && q * q === a.q ? rational(p, q) : null;
  }
  if ((name === 'floor' || name === 'ceil') && a) {
    const f = a.p >= 0n ? a.p / a.q : -((-a.p + a.q - 1n) / a.q);
    return rational(name === 'floor' || isInteger(a) ? f : f + 1n);
  }
  return null;
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}

/** Value of `e` in complex floating point with the given variable values (NaN when undefined). */
export function evaluate(e: Expr, vars: Record<string, number>): Complex {
  switch (e.t) {
    case 'num':
      return c(toNumber(e.v));
    case 'base': {
      const v = baseValue(e.digits, e.base);
      return c(v === null ? NaN : Number(v));
    }
    case 'sym':
      return c(vars[e.name] ?? NaN);
    case 'const':
      return e.name === 'pi' ? c(Math.PI) : e.name === 'e' ? c(Math.E) : e.name === 'i' ? c(0, 1) : c(Infinity);
    case 'neg': {
      const x = evaluate(e.x, vars);
      return c(-x.re, -x.im);
    }
    case 'add':
      return e.terms.map((t) => evaluate(t, vars)).reduce((a, b) => c(a.re + b.re, a.im + b.im));
    case 'mul':
      return e.factors.map((f) => evaluate(f, vars)).reduce(cmul);
    case 'div':
      return cdiv(evaluate(e.num, vars), evaluate(e.den, vars));
    case 'pow':
      return cpow(evaluate(e.base, vars), evaluate(e.exp, vars));
    case 'fn':
      return applyFunction(e.name, e.args.map((a) => evaluate(a, vars)));
    case 'pm':
      return c(NaN); // callers expand ± first
  }
}

function cmul(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0) return c(a.re * b.re);
  return c(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}

function cdiv(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0) return b.re === 0 ? c(NaN) : c(a.re / b.re);
  const d = b.re * b.re + b.im * b.im;
  return d === 0 ? c(NaN) : c((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d);
}

function clog(a: Complex): Complex {
  return c(Math.log(Math.hypot(a.re, a.im)), Math.atan2(a.im, a.re));
}

function cexp(a: Complex): Complex {
  const m = Math.exp(a.re);
  return a.im === 0 ? c(m) : c(m * Math.cos(a.im), m * Math.sin(a.im));
}

function cpow(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0 && (a.re >= 0 || Number.isInteger(b.re))) return c(Math.pow(a.re, b.re));
  if (a.re === 0 && a.im === 0) return c(b.re > 0 ? 0 : NaN);
  return cexp(cmul(b, clog(a)));
}

function applyFunction(name: string, args: Complex[]): Complex {
  const [a, b] = args;
  const real = args.every((x) => x.im === 0);
  switch (name) {
    case 'sqrt':
      return cpow(a, c(0.5));
    case 'ln':
    case 'log':
      return real && a.re > 0 ? c(Math.log(a.re)) : clog(a);
    case 'exp':
      return cexp(a);
    case 'sin':
      return c(Math.sin(a.re) * Math.cosh(a.im), Math.cos(a.re) * Math.sinh(a.im));
    case 'cos':
      return c(Math.cos(a.re) * Math.cosh(a.im), -Math.sin(a.re) * Math.sinh(a.im));
    case 'tan':
      return cdiv(applyFunction('sin', [a]), applyFunction('cos', [a]));
    case 'cot':
      return cdiv(applyFunction('cos', [a]), applyFunction('sin', [a]));
    case 'sec':
      return cdiv(c(1), applyFunction('cos', [a]));
    case 'csc':
      return cdiv(c(1), applyFunction('sin', [a]));
    case 'abs':
      return c(Math.hypot(a.re, a.im));
  }
  if (!real) return c(NaN);
  const x = a.re;
  switch (name) {
    case 'arcsin':
      return c(Math.asin(x));
    case 'arccos':
      return c(Math.acos(x));
    case 'arctan':
      return c(Math.atan(x));
    case 'sinh':
      return c(Math.sinh(x));
    case 'cosh':
      return c(Math.cosh(x));
    case 'tanh':
      return c(Math.tanh(x));
    case 'floor':
      return c(Math.floor(x));
    case 'ceil':
      return c(Math.ceil(x));
    case 'max':
      return c(Math.max(...args.map((v) => v.re)));
    case 'min':
      return c(Math.min(...args.map((v) => v.re)));
    case 'fact':
      return c(Number.isInteger(x) && x >= 0 ? factorial(x) : NaN);
    case 'binom':
      return c(Number.isInteger(x) && Number.isInteger(b.re) ? factorial(x) / (factorial(b.re) * factorial(x - b.re)) : NaN);
    case 'gcd':
    case 'lcm':
      return c(gcdLcm(name, args.map((v) => v.re)));
  }
  return c(NaN);
}

function factorial(n: number): number {
  if (n < 0) return Infinity;
  let r = 1;
  for (let k = 2; k <= n && r < Infinity; k++) r *= k;
  return r;
}

function gcdLcm(name: string, xs: number[]): number {
  if (!xs.every(Number.isInteger)) return NaN;
  const g = (a: number, b: number): number => (b === 0 ? Math.abs(a) : g(b, a % b));
  return xs.reduce((a, b) => (name === 'gcd' ? g(a, b) : Math.abs(a * b) / g(a, b)));
}
