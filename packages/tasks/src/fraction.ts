/** Greatest common divisor of two integers (non-negative result). */
export function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b) [a, b] = [b, a % b];
  return a;
}

/** `num/den` reduced, sign in front: `'5'`, `'-7/2'` (den ≠ 0). */
export function formatFraction(num: number, den: number): string {
  if (den === 0) throw new RangeError('denominator is zero');
  const g = gcd(num, den) || 1;
  let n = num / g;
  let d = den / g;
  if (d < 0) [n, d] = [-n, -d];
  return d === 1 ? String(n) : `${n}/${d}`;
}
