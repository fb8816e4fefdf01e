// String normalisation of one extracted answer before it is read: delimiters, spacing, text and
// units, thousands separators, degree signs, percent words, relation spellings, mixed numbers.
// Everything here only removes notation, never changes a value.

const TEXT_COMMAND = /\\(?:text|textnormal|textbf|textit|textrm|textsf|texttt|textup|mathrm|mathbf|mathit|mathsf|mathtt|mathnormal|boldsymbol|mbox|hbox)\s*\{([^{}]*)\}/g;
const KNOWN_OPERATORS = new Set(['lcm', 'gcd', 'sin', 'cos', 'tan', 'cot', 'sec', 'csc', 'ln', 'log', 'exp', 'max', 'min', 'arcsin', 'arccos', 'arctan', 'det']);
const BARE_FUNCTIONS = /(?<![\\a-zA-Z])(sin|cos|tan|cot|sec|csc|arcsin|arccos|arctan|log|ln|exp|sqrt|pi|infty)(?![a-zA-Z])/g;

const UNICODE: Array<[RegExp, string]> = [
  [/[−–]/g, '-'],
  [/×/g, '\\times '],
  [/÷/g, '\\div '],
  [/·/g, '\\cdot '],
  [/√/g, '\\sqrt'],
  [/π/g, '\\pi '],
  [/∞/g, '\\infty '],
  [/≤/g, '\\le '],
  [/≥/g, '\\ge '],
  [/≠/g, '\\ne '],
  [/∪/g, '\\cup '],
  [/∅/g, '\\emptyset '],
  [/±/g, '\\pm '],
  [/[€£¥₹]/g, ''],
];

/**
 * Normalises one answer string (see the README's accuracy section for the full list).
 *
 * @example
 * ```ts
 * normalizeAnswer('$10\\textnormal{ miles}$.'); // '10'
 * normalizeAnswer('11,\\!111,\\!100'); // '11,111,100' (the comma rule is applied when the answer is read)
 * ```
 */
export function normalizeAnswer(raw: string): string {
  // A doubled backslash before a command (`\\frac`, from over-escaped JSON) outside a matrix.
  let s = raw.includes('\\begin') ? raw : raw.replace(/\\\\(?=[a-zA-Z])/g, '\\');
  for (const [re, to] of UNICODE) s = s.replace(re, to);
  s = s
    .replace(/\\\$/g, ' ')
    .replace(/\$/g, ' ')
    .replace(/\\[()[\]]/g, ' ')
    .replace(/\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits)(?![a-zA-Z])/g, '')
    .replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?:\.|(?![a-zA-Z]))/g, '')
    .replace(/\\lbrace(?![a-zA-Z])/g, '\\{')
    .replace(/\\rbrace(?![a-zA-Z])/g, '\\}')
    .replace(/\\langle(?![a-zA-Z])/g, '(')
    .replace(/\\rangle(?![a-zA-Z])/g, ')')
    .replace(/\\[lr]?vert(?![a-zA-Z])|\\mid(?![a-zA-Z])/g, '|')
    .replace(/\\[dtc]frac(?![a-zA-Z])/g, '\\frac')
    .replace(/\\[dt]binom(?![a-zA-Z])/g, '\\binom')
    .replace(/\\varnothing(?![a-zA-Z])/g, '\\emptyset')
    .replace(/\\infin(?![a-zA-Z])/g, '\\infty')
    .replace(/\\bigcup(?![a-zA-Z])/g, '\\cup')
    .replace(/\\mathbb\s*\{?\s*R\s*\}?/g, '(-\\infty,\\infty)')
    .replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![a-zA-Z])|°|\\degree(?![a-zA-Z])|\\circ(?![a-zA-Z])/g, '')
    .replace(/(-?)(\d*)\.(\d*)\\overline\s*\{(\d+)\}/g, repeatingDecimal)
    .replace(/\\(?:overline|underline|vec|hat|widehat|bar|overrightarrow|mathcal|mathbb)\s*\{([^{}]*)\}/g, '$1')
    .replace(/\\(?:angle|triangle|measuredangle)(?![a-zA-Z])\s*/g, '')
    .replace(/\s*\\pmod\s*\{[^{}]*\}|\s*\\(?:bmod|mod)\s*\d+\s*$/g, '')
    .replace(/\\%/g, '%')
    .replace(/"/g, ' ')
    .replace(/\binfinity\b|(?<![\\a-zA-Z])inf\b/g, '\\infty ')
    .replace(/,?\s*\\[lc]?dots(?![a-zA-Z])/g, ' ')
    .replace(/(\d)\s*\{\s*,\s*\}\s*(?=\d{3}(?!\d))/g, '$1')
    .replace(/\{,\}/g, ',')
    .replace(/(?<!\\)\\!\s*/g, '')
    .replace(/(\d)(?:(?<!\\)\\[,;: ]|~|\s)(?=\d{3}(?![\d.]))/g, '$1')
    .replace(/(?<!\\)\\(?:[,;: ]|q?quad)|~/g, ' ')
    .replace(/\\(?:leqslant|leq|le)(?![a-zA-Z])|<=/g, '\\le ')
    .replace(/\\(?:geqslant|geq|ge)(?![a-zA-Z])|>=/g, '\\ge ')
    .replace(/\\(?:neq|ne)(?![a-zA-Z])|!=/g, '\\ne ')
    .replace(/\\lt(?![a-zA-Z])/g, '<')
    .replace(/\\gt(?![a-zA-Z])/g, '>')
    .replace(/\\ast(?![a-zA-Z])|\*\*/g, (m) => (m === '**' ? '^' : '*'));
  s = operatorNames(s);
  s = textCommands(s);
  s = s.replace(/\s+/g, ' ').trim();
  s = s.replace(/^(?:[.,;:](?!\d)\s*)+/, '').replace(/(?:\s*(?:[.,;:]|\\\.))+$/, '').trim();
  s = s.replace(/(\d|\})\s*(?:percentage|percent|pct)\b\.?/gi, '$1%');
  s = connectives(s);
  s = plainUnits(s);
  s = trailingUnit(s);
  s = approximations(s);
  s = mixedNumbers(s);
  s = s.replace(/;/g, ',').replace(/,(?:\s*,)+/g, ',');
  s = s.replace(/([)\]])\s*U\s*([([])/g, '$1\\cup$2');
  return s.replace(BARE_FUNCTIONS, '\\$1').replace(/\s+/g, ' ').trim();
}

// `0.1\overline{6}` = 1/6: (all digits − the non-repeating digits) / (9…9 0…0).
function repeatingDecimal(m: string, sign: string, whole: string, fixed: string, period: string): string {
  const all = BigInt(`${whole || '0'}${fixed}${period}`);
  const head = BigInt(`${whole || '0'}${fixed}`);
  const den = BigInt('9'.repeat(period.length) + '0'.repeat(fixed.length));
  return `${sign}\\frac{${all - head}}{${den}}`;
}

// `\operatorname{lcm}` → `\lcm`; an unknown operator name stays as text.
function operatorNames(s: string): string {
  return s.replace(/\\operatorname\s*\{([a-zA-Z]+)\}/g, (m, name: string) => (KNOWN_OPERATORS.has(name) ? `\\${name} ` : `\\text{${name}}`));
}

// `\text{…}` and friends: `\mathrm{e}` is e; ` and `/`or` between answers is a comma; units go when
// something mathematical remains without them (`5\text{ cm}^2` → `5`), else the text is the answer.
function textCommands(s: string): string {
  s = s.replace(TEXT_COMMAND, (m, body: string) => {
    const t = body.trim();
    if (/^(?:,?\s*(?:and|or)|,)$/i.test(t)) return ', ';
    return m;
  });
  if (!/\\(?:text|math|bold|mbox|hbox)/.test(s)) return s;
  const unitExp = String.raw`(?:\s*\^\s*(?:\{\s*\d\s*\}|\d))?`;
  // A one-letter body is a unit right after a number (`10\mathrm{m}`), else a symbol (`\mathrm{e}`).
  const withoutUnits = s.replace(new RegExp(TEXT_COMMAND.source + unitExp, 'g'), (m, body: string, at: number) =>
    /^[a-zA-Z]$/.test(body.trim()) && !/[\d}]\s*$/.test(s.slice(0, at)) ? ` ${body.trim()} ` : ' ',
  );
  if (/[0-9]/.test(withoutUnits) && withoutUnits.replace(/[\s,.]/g, '') !== '') return withoutUnits;
  let prev = '';
  while (prev !== s) {
    prev = s;
    s = s.replace(TEXT_COMMAND, (m, body: string) => body);
  }
  return s;
}

// ` and ` / ` or ` between items of a list of answers become commas (not inside a text answer).
function connectives(s: string): string {
  if (!/\b(?:and|or)\b/.test(s)) return s;
  const words = s.replace(/\\[a-zA-Z]+/g, ' ').match(/[a-zA-Z]{2,}/g) ?? [];
  if (words.some((w) => w !== 'and' && w !== 'or')) return s;
  return s.replace(/\s*,?\s*\b(?:and|or)\b\s*/g, ', ').replace(/^,\s*|,\s*$/g, '');
}

// Plain-text units after a number: `5 apples`, `35 cm`, `20 km/h`, `3 dollars` (also inside a list).
function plainUnits(s: string): string {
  return s.replace(/(\d)\s+(?:[a-zA-Z]{2,}(?![a-zA-Z])(?:\/[a-zA-Z]+)?(?:\^\{?\d\}?)?\.?\s*)+(?=,|\}|\)|$)/g, (m, d: string) => {
    const words = m.slice(1).match(/[a-zA-Z]+/g) ?? [];
    return words.some((w) => /^(?:sin|cos|tan|log|ln|exp|pi|sqrt|infty|and|or)$/.test(w)) ? m : d;
  });
}

// Units written against the number at the end (`1cm`, `\frac{1}{2}cm`, `3s`, `20 mph`, `5th`), as
// Math-Verify's unit list; one-letter units only right after digits (`10m`, not `2d`).
const UNIT_WORDS = [
  'cm', 'mm', 'km', 'kg', 'mg', 'ml', 'ft', 'in', 'mph', 'kmh', 'kmph', 'hr', 'hrs', 'min', 'mins', 'sec', 'secs', 'inch', 'inche',
  'feet', 'foot', 'yard', 'mile', 'meter', 'metre', 'liter', 'litre', 'gallon', 'pound', 'lb', 'lbs', 'oz', 'ounce', 'degree', 'deg',
  'cent', 'dollar', 'unit', 'day', 'hour', 'minute', 'second', 'week', 'month', 'year', 'yr', 'sq', 'square', 'cubic', 'acre',
  'hectare', 'gm', 'gram', 'kilogram', 'ton', 'mt', 'mtr', 'rs', 'rupee', 'point', 'way', 'people', 'person', 'student', 'page',
  'st', 'nd', 'rd', 'th',
];
const TRAILING_UNIT = new RegExp(String.raw`(\d|\})\s*(?:(?:${UNIT_WORDS.join('|')})(?:s|es)?|(?<=\d)[msgh])(?:\^\{?[23]\}?|[²³])?\.?$`);

function trailingUnit(s: string): string {
  return s.replace(TRAILING_UNIT, '$1').trim();
}

// `x = 1/3 \approx 0.33` keeps the exact value; `x \approx 0.33` reads as `x = 0.33`.
function approximations(s: string): string {
  const k = s.indexOf('\\approx');
  if (k < 0) return s;
  if (s.slice(0, k).includes('=')) return s.slice(0, k).trim();
  return s.replace(/\\approx/g, '=');
}

// Mixed numbers: `2\frac{1}{2}` and `2 1/2` → (2+1/2), only for a proper fraction after an integer.
function mixedNumbers(s: string): string {
  const wrap = (whole: string, a: string, b: string, m: string) => (BigInt(a) < BigInt(b) && b !== '0' ? `(${whole}+\\frac{${a}}{${b}})` : m);
  s = s.replace(/(?<![\d.^_{])(\d+)\s*\\frac(?:\{(\d+)\}\{(\d+)\}|(\d)(\d))/g, (m, w: string, a?: string, b?: string, a1?: string, b1?: string) =>
    wrap(w, a ?? a1!, b ?? b1!, m),
  );
  return s.replace(/(?<![\d.^_{/])(\d+) (\d+)\/(\d+)(?![\d.])/g, (m, w: string, a: string, b: string) => wrap(w, a, b, m));
}

/** A loose text form for answers that are words: lower case, no spaces, braces or text commands. */
export function textKey(s: string): string {
  return s
    .replace(/\\(?:text|textbf|mathrm|mbox)\s*/g, '')
    .toLowerCase()
    .replace(/[\s{}\\]/g, '')
    .replace(/\.$/, '');
}
