// Exact rational arithmetic on BigInt, so integers of any size and decimals such as 0.1 compare
// exactly, and an answer is only compared in floating point when it is truly irrational.

/** A rational number p/q in lowest terms with q > 0. */
export interface Rational {
  p: bigint;
  q: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** Builds p/q in lowest terms; `null` when q is 0. */
export function rational(p: bigint, q = 1n): Rational | null {
  if (q === 0n) return null;
  if (q < 0n) [p, q] = [-p, -q];
  const g = gcd(p, q);
  return g > 1n ? { p: p / g, q: q / g } : { p, q };
}

/** Reads a plain decimal numeral (`12`, `-0.5`, `.25`, `3.`) exactly; `null` for anything else. */
export function parseDecimal(s: string): Rational | null {
  const m = /^([-+]?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const frac = m[3] ?? '';
  const p = BigInt((m[2] || '0') + frac) * (m[1] === '-' ? -1n : 1n);
  return rational(p, 10n ** BigInt(frac.length));
}

export const add = (a: Rational, b: Rational): Rational => rational(a.p * b.q + b.p * a.q, a.q * b.q)!;
export const sub = (a: Rational, b: Rational): Rational => rational(a.p * b.q - b.p * a.q, a.q * b.q)!;
export const mul = (a: Rational, b: Rational): Rational => rational(a.p * b.p, a.q * b.q)!;
export const div = (a: Rational, b: Rational): Rational | null => rational(a.p * b.q, a.q * b.p);

/** a^n for an integer n, when the result has at most ~10^5 bits (bigger ones are left to floating point). */
export function powInt(a: Rational, n: bigint): Rational | null {
  const bits = BigInt(Math.max(a.p.toString(2).length, a.q.toString(2).length));
  if ((n < 0n ? -n : n) * bits > 100_000n) return null;
  if (n < 0n) return a.p === 0n ? null : rational(a.q ** -n, a.p ** -n);
  return rational(a.p ** n, a.q ** n);
}

/** Exact equality. */
export function rationalEquals(a: Rational, b: Rational): boolean {
  return a.p === b.p && a.q === b.q;
}

/** Nearest double (exact for small values, correctly scaled for huge numerators/denominators). */
export function toNumber(r: Rational): number {
  const n = Number(r.p);
  const d = Number(r.q);
  if (Number.isFinite(n) && Number.isFinite(d)) return n / d;
  const shift = BigInt(Math.max(r.p.toString().length, r.q.toString().length) - 300);
  return Number(r.p / 10n ** shift) / Number(r.q / 10n ** shift);
}

/** Whether a rational is an integer. */
export const isInteger = (r: Rational): boolean => r.q === 1n;
