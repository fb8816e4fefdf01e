import { describe, expect, it } from 'vitest';
import { RewardConfigError } from '../errors.js';
import type { RewardSample } from '../types.js';
import { codeReward, createCodeReward, createCodeRewardDetailed } from './code-reward.js';

const fence = (code: string, tag = 'js') => `Here is my solution.\n\`\`\`${tag}\n${code}\n\`\`\`\n`;
const run = createCodeRewardDetailed({ timeoutMs: 1000 });

const addSample: RewardSample = {
  prompt: 'Write add(a, b).',
  entryPoint: 'add',
  tests: [
    { input: [1, 2], expected: 3 },
    { input: [-5, 5], expected: 0 },
    { input: 'add(0.1, 0.2)', expected: 0.3 },
    { assert: 'assert(add(2, 2) === 4, "2+2")' },
  ],
};

describe('codeReward: scoring', () => {
  it('a correct solution passes every test', async () => {
    const d = await run(fence('function add(a, b) { return a + b; }'), addSample);
    expect(d.results.map((r) => r.reason)).toEqual([null, null, null, null]);
    expect(d.score).toBe(1);
  });

  it('a partially correct solution gets the pass rate, with reasons', async () => {
    const d = await run(fence('function add(a, b) { return a > 0 ? a + b : 42; }'), addSample);
    expect(d.score).toBe(0.75);
    expect(d.results[1]).toEqual({ pass: false, kind: 'wrong-answer', reason: 'wrong-answer: expected 0, got 42' });
    expect(await createCodeReward({ binary: true })(fence('function add(a, b) { return a > 0 ? a + b : 42; }'), addSample)).toBe(0);
  });

  it('runs the last JavaScript block, skipping other languages and stripping export', async () => {
    const c = `${fence('function add() { return 0; }')}${fence('export function add(a, b) { return a + b; }', 'javascript')}${fence('def add(a, b): return 0', 'python')}`;
    expect(await codeReward(c, addSample)).toBe(1);
  });

  it('compares deep values, undefined, NaN, Infinity and BigInt', async () => {
    const sample: RewardSample = {
      prompt: '',
      tests: [
        { fn: 'f', input: [], expected: { a: [1, { b: 'x' }], c: null } },
        { input: 'g()', expected: [undefined, Number.NaN, -Infinity, 10n] },
        { input: 'f()', expected: { a: [1, { b: 'y' }], c: null } },
      ],
    };
    const code = 'function f() { return { c: null, a: [1, { b: "x" }] }; }\nfunction g() { return [undefined, NaN, -Infinity, 10n]; }';
    const d = await run(fence(code), sample);
    expect(d.results.map((r) => r.pass)).toEqual([true, true, false]);
  });

  it('is deterministic: Math.random is seeded in the sandbox', async () => {
    const sample: RewardSample = { prompt: '', tests: [{ input: 'Math.random()', expected: 0 }] };
    const a = await run(fence('const x = 1;'), sample);
    const b = await run(fence('const x = 1;'), sample);
    expect(a.results[0].reason).toMatch(/^wrong-answer: expected 0, got 0\.\d+/);
    expect(a).toEqual(b);
  });

  it('no tests → null; no code block → 0 with a reason', async () => {
    expect(await codeReward(fence('1'), { prompt: '' })).toBeNull();
    const d = await run('I think the answer is add = (a, b) => a + b', addSample);
    expect(d.score).toBe(0);
    expect(d.reason).toMatch(/^no-code-block/);
  });

  it('console output is discarded, a solution cannot replace assert', async () => {
    const code = 'function add(a, b) { for (let i = 0; i < 1e4; i++) console.log("x".repeat(1000)); return a + b + 1; }\nfunction assert() {}';
    const d = await run(fence(code), addSample);
    expect(d.results[3].pass).toBe(false);
    expect(d.score).toBe(0);
  });
});

describe('codeReward: sandbox escape corpus (each → 0 with a reason, host unaffected)', () => {
  const hostCwd = process.cwd();
  const corpus: Array<[string, string, RegExp]> = [
    ['read a file', 'function f() { return require("fs").readFileSync("/etc/passwd", "utf8"); }', /test-error: ReferenceError: .*require/],
    ['std/os modules', 'function f() { return std.loadFile("/etc/passwd"); }', /test-error: ReferenceError: .*std/],
    ['static import', 'import fs from "fs";\nfunction f() { return fs; }', /syntax-error/],
    ['dynamic import', 'function f() { return import("fs"); }', /wrong-answer/],
    ['process/env', 'function f() { return process.env.HOME; }', /test-error: ReferenceError: .*process/],
    ['fetch', 'function f() { return fetch("http://example.com"); }', /test-error: ReferenceError: .*fetch/],
    ['XMLHttpRequest', 'function f() { return new XMLHttpRequest(); }', /test-error: ReferenceError: .*XMLHttpRequest/],
    ['setTimeout', 'function f() { setTimeout(() => {}, 0); return 1; }', /test-error: ReferenceError: .*setTimeout/],
    ['infinite loop', 'function f() { while (true) {} }', /^timeout: CPU deadline of 1000 ms/],
    ['infinite loop at load', 'for (;;) {}\nfunction f() { return 1; }', /^timeout/],
    ['deep recursion', 'function f(n = 0) { return f(n + 1) + 1; }', /^stack-overflow/],
    ['deeply nested JSON', 'function f() { return JSON.parse("[".repeat(1e5)); }', /^stack-overflow/],
    ['1 GB allocation', 'function f() { return new ArrayBuffer(1e9).byteLength; }', /^memory-limit/],
    // QuickJS's limit does not count every allocation (large strings, typed arrays): such a bomb is
    // stopped by the memory limit or by the hard deadline, whichever comes first.
    ['memory bomb', 'function f() { const a = []; for (;;) a.push("x".repeat(1e6) + a.length); }', /^(memory-limit|timeout)/],
    ['native work between interrupt polls', 'function f() { const a = []; for (;;) a.push(new Array(1e5).fill(7)); }', /^timeout: hard deadline .* worker terminated/],
    ['huge output', 'function f() { return "x".repeat(2e6); }', /^output-too-large/],
    ['prototype pollution', 'Object.prototype.polluted = "yes"; Array.prototype.map = null; function f() { return ({}).polluted; }', /wrong-answer/],
    ['globalThis tampering', 'globalThis.JSON = null; Object.keys = () => []; function f() { return {}; }', /wrong-answer/],
    ['thrown error', 'function f() { throw new TypeError("boom"); }', /^test-error: TypeError: boom/],
    ['syntax error', 'function f( {', /^syntax-error/],
    ['escape via constructor', 'function f() { return (function(){}).constructor("return this")().process.exit(1); }', /test-error: TypeError/],
  ];

  it.each(corpus)('%s', async (_name, code, reason) => {
    const d = await run(fence(code), { prompt: '', entryPoint: 'f', tests: [{ input: [], expected: 1 }] });
    expect(d.score).toBe(0);
    expect(d.results[0].pass).toBe(false);
    expect(d.results[0].reason).toMatch(reason);
    // The host is untouched and still works.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(typeof Array.prototype.map).toBe('function');
    expect(Object.keys({ a: 1 })).toEqual(['a']);
    expect(typeof JSON.stringify).toBe('function');
    expect(process.cwd()).toBe(hostCwd);
  });

  it('a returned __proto__ key does not pollute the host', async () => {
    const d = await run(fence('function f() { return JSON.parse(\'{"__proto__": {"polluted": 1}}\'); }'), {
      prompt: '', entryPoint: 'f', tests: [{ input: [], expected: 1 }],
    });
    expect(d.results[0].kind).toBe('wrong-answer');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('after the corpus the sandbox still runs correct code', async () => {
    expect(await codeReward(fence('const add = (a, b) => a + b;'), addSample)).toBe(1);
  });
});

describe('codeReward: configuration errors', () => {
  it.each([
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ memoryLimitBytes: 10 }, 'memoryLimitBytes'],
    [{ maxStackBytes: 1.5 }, 'maxStackBytes'],
    [{ entryPoint: 'a b' }, 'entryPoint'],
    [{ binary: 'yes' as unknown as boolean }, 'binary'],
  ])('%o names %s', (options, field) => {
    expect(() => createCodeRewardDetailed(options)).toThrow(RewardConfigError);
    expect(() => createCodeRewardDetailed(options)).toThrow(field);
  });

  it('malformed tests throw a RewardConfigError naming the field', async () => {
    await expect(run(fence('1'), { prompt: '', tests: [{ input: [1], expected: 1 }] })).rejects.toThrow('sample.tests[0].fn');
    await expect(run(fence('1'), { prompt: '', tests: [{ input: 5 } as never] })).rejects.toThrow('sample.tests[0].expected');
  });
});
