// Exact rational reading of plain numbers (integers, decimals, `a/b`, `\frac{a}{b}`, `\frac12`), so
// the common case needs no expression parser and big integers compare exactly.

/** A rational number p/q with q > 0. */
export interface Rational {
  p: bigint;
  q: bigint;
}

const DECIMAL = /^([-+]?)(\d*)(?:\.(\d*))?$/;

function decimal(s: string): Rational | null {
  const m = DECIMAL.exec(s.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const frac = m[3] ?? '';
  const p = BigInt((m[2] || '0') + frac) * (m[1] === '-' ? -1n : 1n);
  return { p, q: 10n ** BigInt(frac.length) };
}

/** Reads `s` as an exact rational, or `null` when it is anything else. */
export function parseRational(input: string): Rational | null {
  let s = input.replace(/\s+/g, '');
  let sign = 1n;
  if (s.startsWith('-') && (s.startsWith('-\\frac') || s.startsWith('-('))) {
    sign = -1n;
    s = s.slice(1);
  }
  if (s.startsWith('(') && s.endsWith(')') && !s.slice(1, -1).includes('(')) s = s.slice(1, -1);
  let num: Rational | null;
  let den: Rational | null;
  const frac = /^\\frac(?:\{([^{}]+)\}|(\d))(?:\{([^{}]+)\}|(\d))$/.exec(s);
  const slash = /^([^/]+)\/([^/]+)$/.exec(s);
  if (frac) {
    num = decimal(frac[1] ?? frac[2]);
    den = decimal(frac[3] ?? frac[4]);
  } else if (slash) {
    num = decimal(slash[1]);
    den = decimal(slash[2]);
  } else {
    num = decimal(s);
    den = { p: 1n, q: 1n };
  }
  if (!num || !den || den.p === 0n) return null;
  let p = num.p * den.q * sign;
  let q = num.q * den.p;
  if (q < 0n) {
    p = -p;
    q = -q;
  }
  return { p, q };
}

/** Exact equality of two rationals. */
export function rationalEquals(a: Rational, b: Rational): boolean {
  return a.p * b.q === b.p * a.q;
}

/** `r / 100`. */
export function percentOf(r: Rational): Rational {
  return { p: r.p, q: r.q * 100n };
}
