// The TypeDoc plugin that lets TeX in doc comments through typedoc-plugin-markdown's sanitizer.
import { describe, expect, it } from 'vitest';
import { unescapeMath } from '../.vitepress/typedoc-math.mjs';

describe('unescapeMath', () => {
  it('removes the sanitizer escapes of { } < > inside $$…$$ and $…$', () => {
    // What sanitizeComments makes of `$$ e^{x} < 1 $$` and `$L_{i,t}$`.
    expect(unescapeMath('$$\ne^\\{x\\} \\< 1\n$$')).toBe('$$\ne^{x} < 1\n$$');
    expect(unescapeMath('loss $L_\\{i,t\\}$ per token')).toBe('loss $L_{i,t}$ per token');
    expect(unescapeMath('$x$ and $\\hat A_\\{i\\}$')).toBe('$x$ and $\\hat A_{i}$');
  });

  it('keeps TeX\'s own escaped braces: \\\\{ (sanitised \\{) becomes \\{', () => {
    expect(unescapeMath('$\\\\{1, 2\\\\}$')).toBe('$\\{1, 2\\}$');
  });

  it('leaves text outside math and code untouched (Vue must not see raw braces there)', () => {
    const md = 'a map \\{ k: v \\} costs 5 \\< 6; `$\\{x\\}$` in code; ```ts\nconst s = `$\\{a\\}`;\n```\n';
    expect(unescapeMath(md)).toBe(md);
    expect(unescapeMath('$5 and \\{x\\} then $ 6')).toBe('$5 and \\{x\\} then $ 6'); // "$ 6": no closing math dollar
  });
});
