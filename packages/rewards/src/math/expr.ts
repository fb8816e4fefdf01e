// A small LaTeX expression parser for final answers: numbers, variables, + − × ÷, powers, \frac,
// \sqrt, functions, factorials, |·|, floor/ceil, binomials, ± and number bases. Hand-written rather
// than a general LaTeX library so that what parses, and how (implicit products, `\frac12`, `e`, `i`),
// is small, explicit and the same on every call.
import { parseDecimal, type Rational } from '../rational.js';

/** An expression tree. `decimal` marks a numeral written with a decimal point (`0.5`, `1.`). */
export type Expr =
  | { t: 'num'; v: Rational; decimal: boolean }
  | { t: 'base'; digits: string; base: number }
  | { t: 'sym'; name: string }
  | { t: 'const'; name: 'pi' | 'e' | 'i' | 'inf' }
  | { t: 'neg'; x: Expr }
  | { t: 'add'; terms: Expr[] }
  | { t: 'mul'; factors: Expr[] }
  | { t: 'div'; num: Expr; den: Expr }
  | { t: 'pow'; base: Expr; exp: Expr }
  | { t: 'fn'; name: string; args: Expr[] }
  | { t: 'pm'; a: Expr | null; b: Expr; sign: 1 | -1 };

/** Thrown for input the parser does not understand; callers treat such an answer as unparseable. */
export class ExprSyntaxError extends Error {
  override readonly name = 'ExprSyntaxError';
}

const FUNCTIONS = new Set([
  'sin', 'cos', 'tan', 'cot', 'sec', 'csc', 'arcsin', 'arccos', 'arctan', 'sinh', 'cosh', 'tanh',
  'ln', 'log', 'exp', 'max', 'min', 'gcd', 'lcm', 'det',
]);
const GREEK = new Set([
  'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'varepsilon', 'zeta', 'eta', 'theta', 'vartheta', 'iota',
  'kappa', 'lambda', 'mu', 'nu', 'xi', 'rho', 'sigma', 'tau', 'upsilon', 'phi', 'varphi', 'chi', 'psi',
  'omega', 'Gamma', 'Delta', 'Theta', 'Lambda', 'Xi', 'Sigma', 'Upsilon', 'Phi', 'Psi', 'Omega', 'ell',
]);
// Commands that end an implicit product rather than start a new factor.
const NOT_A_FACTOR = new Set(['cdot', 'times', 'div', 'pm', 'mp', 'right', 'rfloor', 'rceil', 'cup', 'cap', 'rangle']);

/**
 * Parses a normalised LaTeX expression into an {@link Expr}; throws {@link ExprSyntaxError}.
 *
 * @example
 * ```ts
 * parseExpr('2\\sqrt2 + \\frac12'); // { t: 'add', terms: [...] }
 * ```
 */
export function parseExpr(src: string): Expr {
  const p = new Parser(src);
  const e = p.expr();
  p.skip();
  if (p.i < src.length) throw new ExprSyntaxError(`unexpected '${src.slice(p.i, p.i + 10)}' in '${src}'`);
  return e;
}

class Parser {
  i = 0;
  private absDepth = 0;
  constructor(private readonly s: string) {}

  skip(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  private peek(): string {
    this.skip();
    return this.s[this.i] ?? '';
  }

  // The command name at the cursor (`\frac` → 'frac'), without consuming it.
  private command(): string | null {
    this.skip();
    if (this.s[this.i] !== '\\') return null;
    const m = /^\\([a-zA-Z]+|.)/.exec(this.s.slice(this.i));
    return m ? m[1] : null;
  }

  private eat(text: string): boolean {
    this.skip();
    if (!this.s.startsWith(text, this.i)) return false;
    if (/^\\[a-zA-Z]+$/.test(text) && /[a-zA-Z]/.test(this.s[this.i + text.length] ?? '')) return false;
    this.i += text.length;
    return true;
  }

  private expect(text: string): void {
    if (!this.eat(text)) throw new ExprSyntaxError(`expected '${text}' at ${this.i} in '${this.s}'`);
  }

  expr(): Expr {
    const terms: Expr[] = [];
    let first = true;
    for (;;) {
      let sign: 1 | -1 | 0 = 1;
      let pm: 1 | -1 | null = null;
      if (this.eat('+')) sign = 1;
      else if (this.eat('-')) sign = -1;
      else if (this.eat('\\pm')) pm = 1;
      else if (this.eat('\\mp')) pm = -1;
      else if (!first) break;
      else sign = 0;
      const t = this.term();
      if (pm !== null) {
        const a = terms.length === 0 ? null : terms.length === 1 ? terms[0] : { t: 'add' as const, terms: [...terms] };
        terms.length = 0;
        terms.push({ t: 'pm', a, b: t, sign: pm });
      } else terms.push(sign === -1 ? { t: 'neg', x: t } : t);
      first = false;
    }
    return terms.length === 1 ? terms[0] : { t: 'add', terms };
  }

  private term(): Expr {
    const factors: Expr[] = [this.unary()];
    for (;;) {
      if (this.eat('\\cdot') || this.eat('\\times') || this.eat('*')) factors.push(this.unary());
      else if (this.eat('\\div') || this.eat('/')) {
        const den = this.unary();
        const num = factors.length === 1 ? factors[0] : { t: 'mul' as const, factors: [...factors] };
        factors.length = 0;
        factors.push({ t: 'div', num, den });
      } else if (this.startsFactor()) factors.push(this.power());
      else break;
    }
    return factors.length === 1 ? factors[0] : { t: 'mul', factors };
  }

  private startsFactor(): boolean {
    const c = this.peek();
    if (c === '\\') {
      const name = this.command();
      return name !== null && /^[a-zA-Z]+$/.test(name) && !NOT_A_FACTOR.has(name) || name === '{';
    }
    if (c === '|') return this.absDepth === 0;
    return /[0-9.a-zA-Z([{]/.test(c) && c !== '';
  }

  private unary(): Expr {
    if (this.eat('-')) return { t: 'neg', x: this.unary() };
    if (this.eat('+')) return this.unary();
    if (this.eat('\\pm')) return { t: 'pm', a: null, b: this.unary(), sign: 1 };
    return this.power();
  }

  private power(): Expr {
    let base = this.postfix(this.atom());
    if (this.eat('^')) {
      const exp = this.script();
      base = this.postfix({ t: 'pow', base, exp });
    }
    return base;
  }

  private postfix(x: Expr): Expr {
    while (this.peek() === '!' && this.s[this.i + 1] !== '=') {
      this.i++;
      x = { t: 'fn', name: 'fact', args: [x] };
    }
    return x;
  }

  // A super/subscript or macro argument: `{…}`, or one token (a digit run for scripts, e.g. 2^10).
  private script(singleDigit = false): Expr {
    const c = this.peek();
    if (c === '{') {
      this.i++;
      const e = this.expr();
      this.expect('}');
      return e;
    }
    if (/[0-9]/.test(c)) {
      const m = singleDigit ? c : /^\d+(?:\.\d+)?/.exec(this.s.slice(this.i))![0];
      this.i += m.length;
      return num(m);
    }
    if (c === '-') {
      this.i++;
      return { t: 'neg', x: this.script(singleDigit) };
    }
    return this.atom();
  }

  private atom(): Expr {
    const c = this.peek();
    if (c === '') throw new ExprSyntaxError(`unexpected end of '${this.s}'`);
    if (/[0-9.]/.test(c)) return this.number();
    if (/[a-zA-Z]/.test(c)) return this.letter();
    if (c === '(' || c === '[' || c === '{') {
      this.i++;
      const e = this.expr();
      this.expect(c === '(' ? ')' : c === '[' ? ']' : '}');
      return e;
    }
    if (c === '|') {
      this.i++;
      this.absDepth++;
      const e = this.expr();
      this.absDepth--;
      this.expect('|');
      return { t: 'fn', name: 'abs', args: [e] };
    }
    if (c === '\\') return this.commandAtom();
    throw new ExprSyntaxError(`unexpected '${c}' in '${this.s}'`);
  }

  private number(): Expr {
    const m = /^(\d*\.?\d*)(?:[eE]([-+]?\d+)(?![a-zA-Z]))?/.exec(this.s.slice(this.i))!;
    if (m[1] === '' || m[1] === '.') throw new ExprSyntaxError(`bad number in '${this.s}'`);
    this.i += m[0].length;
    let x: Expr = num(m[1]);
    if (m[2] !== undefined) x = { t: 'mul', factors: [x, { t: 'pow', base: num('10'), exp: num(m[2]) }] };
    if (m[2] === undefined && !m[1].includes('.') && this.s[this.i] === '_') {
      const b = /^_(?:\{(\d+)\}|(\d))/.exec(this.s.slice(this.i));
      if (b) {
        this.i += b[0].length;
        return { t: 'base', digits: m[1], base: Number(b[1] ?? b[2]) };
      }
    }
    return x;
  }

  private letter(): Expr {
    const ch = this.s[this.i++];
    const sub = this.subscript();
    if (sub !== null) return { t: 'sym', name: `${ch}_${sub}` };
    if (ch === 'e') return { t: 'const', name: 'e' };
    if (ch === 'i') return { t: 'const', name: 'i' };
    return { t: 'sym', name: ch };
  }

  // `_3`, `_{37}`, `_{n-1}` after a symbol: part of its name.
  private subscript(): string | null {
    if (this.s[this.i] !== '_') return null;
    this.i++;
    if (this.s[this.i] === '{') {
      let depth = 0;
      const start = this.i;
      for (; this.i < this.s.length; this.i++) {
        if (this.s[this.i] === '{') depth++;
        else if (this.s[this.i] === '}' && --depth === 0) break;
      }
      this.expect('}');
      return this.s.slice(start + 1, this.i - 1).replace(/\s+/g, '');
    }
    const m = /^(\\[a-zA-Z]+|[a-zA-Z0-9])/.exec(this.s.slice(this.i));
    if (!m) throw new ExprSyntaxError(`bad subscript in '${this.s}'`);
    this.i += m[0].length;
    return m[0];
  }

  private commandAtom(): Expr {
    const name = this.command()!;
    this.i += name.length + 1;
    if (name === '{') {
      const e = this.expr();
      this.expect('\\}');
      return e;
    }
    if (name === 'frac' || name === 'binom') {
      const a = this.script(true);
      const b = this.script(true);
      return name === 'frac' ? { t: 'div', num: a, den: b } : { t: 'fn', name: 'binom', args: [a, b] };
    }
    if (name === 'sqrt') {
      let index: Expr | null = null;
      if (this.peek() === '[') {
        this.i++;
        index = this.expr();
        this.expect(']');
      }
      const x = this.script(true);
      return index ? { t: 'pow', base: x, exp: { t: 'div', num: num('1'), den: index } } : { t: 'fn', name: 'sqrt', args: [x] };
    }
    if (name === 'pi') return { t: 'const', name: 'pi' };
    if (name === 'infty') return { t: 'const', name: 'inf' };
    if (name === 'lfloor' || name === 'lceil') {
      const e = this.expr();
      this.expect(name === 'lfloor' ? '\\rfloor' : '\\rceil');
      return { t: 'fn', name: name.slice(1), args: [e] };
    }
    if (GREEK.has(name)) {
      const sub = this.subscript();
      return { t: 'sym', name: sub === null ? name : `${name}_${sub}` };
    }
    if (FUNCTIONS.has(name)) return this.functionCall(name);
    throw new ExprSyntaxError(`unknown command '\\${name}' in '${this.s}'`);
  }

  // `\sin x`, `\sin^2(2x)`, `\log_2 8`, `\max(a, b)`; `\sin^{-1}` is arcsin.
  private functionCall(name: string): Expr {
    let base: Expr | null = null;
    let power: Expr | null = null;
    for (let k = 0; k < 2; k++) {
      if (name === 'log' && this.eat('_')) base = this.script(true);
      else if (this.eat('^')) power = this.script();
    }
    let args: Expr[];
    if (this.peek() === '(') {
      this.i++;
      args = [this.expr()];
      while (this.eat(',')) args.push(this.expr());
      this.expect(')');
    } else {
      // Unbracketed argument: the following product of plain factors (`\sin 2x`, not `\sin x \cos x`).
      const factors: Expr[] = [this.power()];
      while (this.startsFactor() && !FUNCTIONS.has(this.command() ?? '')) factors.push(this.power());
      args = [factors.length === 1 ? factors[0] : { t: 'mul', factors }];
    }
    if (power && isMinusOne(power) && ['sin', 'cos', 'tan'].includes(name)) return { t: 'fn', name: `arc${name}`, args };
    let call: Expr = { t: 'fn', name, args };
    if (base) call = { t: 'div', num: call, den: { t: 'fn', name: 'ln', args: [base] } };
    return power ? { t: 'pow', base: call, exp: power } : call;
  }
}

function num(text: string): Expr {
  const v = parseDecimal(text);
  if (!v) throw new ExprSyntaxError(`bad number '${text}'`);
  return { t: 'num', v, decimal: text.includes('.') };
}

function isMinusOne(e: Expr): boolean {
  return e.t === 'neg' && e.x.t === 'num' && e.x.v.p === 1n && e.x.v.q === 1n;
}
