// String normalisation of a final answer before it is parsed: delimiters, spacing commands, text and
// units, thousands separators, `x = …`. Only what the expression library cannot do itself.
import { lastBoxed } from './extract.js';

const TEXT_COMMANDS = /\\(?:text|textbf|textit|textrm|mathrm|mathbf|mathit|mbox|operatorname)\s*\{([^{}]*)\}/g;
const BARE_FUNCTIONS = /(?<![\\a-zA-Z])(sin|cos|tan|cot|sec|csc|log|ln|exp|sqrt|pi)(?![a-zA-Z])/g;

/**
 * Normalises one answer string: strips `$…$`, `\(…\)`, `\[…\]`, `\left`/`\right`, spacing commands,
 * degree signs, a trailing period, text and units (`5\text{ cm}` → `5`, but `\text{Monday}` →
 * `Monday`), thousands separators (`1{,}000`, `1\,000`, `1 000`, `1,000` → `1000`), `\dfrac`/`\tfrac`
 * → `\frac`, and a leading `x =` (a single variable). Percent signs are kept (see `splitPercent`).
 */
export function normalizeAnswer(raw: string): string {
  let s = raw.includes('\\boxed') || raw.includes('\\fbox') ? (lastBoxed(raw) ?? raw) : raw;
  s = s
    .replace(/\\\$/g, '')
    .replace(/\$/g, '')
    .replace(/\\[()[\]]/g, ' ')
    .replace(/\\(?:left|right|big|Big|bigg|Bigg)(?![a-zA-Z])/g, '')
    .replace(/\\displaystyle/g, '')
    .replace(/\\[dtc]frac/g, '\\frac')
    .replace(/\^\s*\{?\s*\\circ\s*\}?|°|\\degree/g, '')
    .replace(/\\%/g, '%')
    .replace(/\{,\}/g, ',')
    .replace(/(\d)(?:\\[,;:!]|~|\\ |\s)(?=\d{3}(?!\d))/g, '$1') // 1\,000 and 1 000
    .replace(/\\[,;:!](?![a-zA-Z])|\\q?quad|~/g, ' ');
  s = stripText(s);
  s = s.replace(/(?<![\d.])(\d{1,3}(?:,\d{3})+)(?![\d,])/g, (m) => (isListOfNumbers(s) ? m : m.replace(/,/g, '')));
  s = s.replace(/\s+/g, ' ').trim().replace(/[.;,]+$/, '').trim();
  s = s.replace(/(\d)\s+(?:[a-zA-Z]{2,}\.?\s*)+$/, '$1'); // plain-text units: "5 apples"
  const eq = /^([a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?|\\[a-zA-Z]+)\s*=\s*(?!=)(.+)$/.exec(s);
  if (eq && !eq[2].includes('=')) s = eq[2].trim();
  return s.replace(BARE_FUNCTIONS, '\\$1');
}

// `\text{…}` and friends: units when something mathematical remains without them, else the answer.
function stripText(s: string): string {
  const without = s.replace(TEXT_COMMANDS, ' ');
  if (/[0-9]/.test(without) || /\\[a-zA-Z]/.test(without)) return without;
  return s.replace(TEXT_COMMANDS, '$1');
}

// "1,234, 5,678"-style input is ambiguous; a comma list whose items are not all 3-digit groups is
// read as a list, everything else as thousands separators.
function isListOfNumbers(s: string): boolean {
  return /\d,\s+\d/.test(s) || /\d,\d{1,2}(?!\d)|\d,\d{4,}/.test(s);
}

/** Splits a trailing percent sign off: `'50%'` → `{ body: '50', percent: true }`. */
export function splitPercent(s: string): { body: string; percent: boolean } {
  const m = /^(.*?)\s*%$/.exec(s);
  return m ? { body: m[1].trim(), percent: true } : { body: s, percent: false };
}

/** A loose text form for answers no parser understands: lower case, no spaces or braces. */
export function textKey(s: string): string {
  return s.toLowerCase().replace(/[\s{}]/g, '');
}
