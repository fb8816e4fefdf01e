// Commas in numbers are ambiguous: `1,000` is a thousand, `32, 349` is a list, `1000,99` is a
// decimal comma or a list. `readings` lists the candidate spellings of a normalised answer.

const THOUSANDS = /(?<![\d.,])([1-9]\d{0,2}(?:,\d{3})+)(?![\d,])/g;

/**
 * Candidate spellings of `s`: thousands separators removed where every comma group has three digits
 * and no comma is followed by a space; a single `a,b` also read as the decimal `a.b`.
 *
 * @example
 * ```ts
 * readings('11,111,100'); // ['11111100']
 * readings('1000,99'); // ['1000,99', '1000.99']
 * readings('32, 349'); // ['32, 349']
 * ```
 */
export function readings(s: string): string[] {
  const listLike = /\d,\s+[-\d]/.test(s) || /\d,\d{1,2}(?!\d)|\d,\d{4,}/.test(s);
  if (!listLike && new RegExp(THOUSANDS.source).test(s)) return [s.replace(THOUSANDS, (m) => m.replace(/,/g, ''))];
  const decimalComma = /^(-?\d+),(\d+)$/.exec(s);
  return decimalComma ? [s, `${decimalComma[1]}.${decimalComma[2]}`] : [s];
}
