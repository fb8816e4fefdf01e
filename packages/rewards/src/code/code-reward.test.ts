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
    // QuickJS's own limit misses many allocations in this build; the capped WASM memory catches them.
    ['memory bomb', 'function f() { const a = []; for (;;) a.push("x".repeat(1e6) + a.length); }', /^memory-limit/],
    ['allocations between interrupt polls', 'function f() { const a = []; for (;;) a.push(new Array(1e5).fill(7)); }', /^memory-limit/],
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

/** One `f()` test of `code`; the verdict and the wall time of the whole call. */
async function judge(code: string, expected: unknown = 1, limits = run) {
  const t0 = performance.now();
  const d = await limits(fence(code), { prompt: '', entryPoint: 'f', tests: [{ input: [], expected }] });
  return { ...d.results[0], score: d.score, ms: performance.now() - t0 };
}

/** The host is unaffected: a correct solution still passes, promptly. */
async function expectHostHealthy(): Promise<void> {
  const next = await judge('function f() { return 1; }');
  expect(next.pass).toBe(true);
  expect(next.ms).toBeLessThan(1000);
}

describe('codeReward: timing attacks (the sandbox reads a frozen clock and has no shared memory)', () => {
  const EPOCH = Date.UTC(2024, 0, 1); // the instant every clock read in the sandbox returns

  it.each([
    ['Date.now()', 'function f() { return Date.now(); }'],
    ['new Date()', 'function f() { return new Date().getTime(); }'],
    ['Date() string', 'function f() { return Date.parse(Date()); }'],
    ['Date.now after 10⁶ iterations', 'function f() { for (let i = 0; i < 1e6; i++); return Date.now(); }'],
  ])('%s reads the frozen instant', async (_name, code) => {
    const v = await judge(code, EPOCH);
    expect(v.reason).toBeNull();
    expect(v.pass).toBe(true);
  });

  it('a timed loop measures zero elapsed time', async () => {
    const v = await judge('function f() { const t0 = Date.now(); let x = 0; for (let i = 0; i < 2e4; i++) x += JSON.stringify([i]).length; return Date.now() - t0; }', 0);
    expect(v.pass).toBe(true);
  });

  it('busy-waiting on the clock never ends: timeout within the hard deadline', async () => {
    const v = await judge('function f() { const t = Date.now(); while (Date.now() - t < 5) {} return 1; }');
    expect(v.score).toBe(0);
    expect(v.kind).toBe('timeout');
    // The deadlines count the worker's CPU time, so on a loaded machine the wall time stretches; the
    // wall-time backstop (10 × the 3 s hard deadline + 10 s) bounds it.
    expect(v.ms).toBeLessThan(40_000);
    await expectHostHealthy();
  });

  it('no SharedArrayBuffer, Atomics, performance, WeakRef or FinalizationRegistry', async () => {
    const v = await judge('function f() { return [typeof SharedArrayBuffer, typeof Atomics, typeof performance, typeof WeakRef, typeof FinalizationRegistry, typeof queueMicrotask]; }', Array(6).fill('undefined'));
    expect(v.reason).toBeNull();
    const wait = await judge('function f() { const sab = new SharedArrayBuffer(8); Atomics.wait(new Int32Array(sab), 0, 0, 1); return 1; }');
    expect(wait.reason).toMatch(/^test-error: ReferenceError: .*SharedArrayBuffer/);
  });

  it('the host clock keeps running', async () => {
    const before = Date.now();
    await judge('function f() { return Date.now(); }');
    const after = Date.now();
    expect(before).toBeGreaterThan(EPOCH + 365 * 86_400_000);
    expect(Math.abs(after - (performance.timeOrigin + performance.now()))).toBeLessThan(1000);
  });
});

describe('codeReward: async work scheduled past the budget never runs', () => {
  const cases: Array<[string, string]> = [
    ['an endless Promise chain', 'function f() { Promise.resolve().then(function loop() { return Promise.resolve().then(loop); }); return 1; }'],
    ['a job flood of infinite loops', 'function f() { for (let i = 0; i < 1e4; i++) Promise.resolve().then(() => { for (;;) {} }); return 1; }'],
    ['an infinite async generator', 'function f() { const g = (async function* () { for (;;) yield new Array(1e6); })(); g.next(); g.next(); return 1; }'],
    ['an async loop started at load', '(async () => { for (;;) await null; })();\nfunction f() { return 1; }'],
    ['a job that would flip the result', 'function f() { const r = [1]; Promise.resolve().then(() => { r[0] = 2; }); return r[0]; }'],
  ];

  it.each(cases)('%s: the synchronous result counts, the call returns promptly', async (_name, code) => {
    const v = await judge(code);
    expect(v.reason).toBeNull();
    expect(v.pass).toBe(true);
    expect(v.ms).toBeLessThan(1000);
    await expectHostHealthy();
  });

  it('a returned Promise is not awaited: wrong-answer', async () => {
    const v = await judge('async function f() { return 1; }');
    expect(v.reason).toBe('wrong-answer: expected 1, got {"unsupported":"object"}');
  });

  it('a queued job cannot leak into the next test of the same sample', async () => {
    const d = await run(fence('function f() { Promise.resolve().then(() => { globalThis.leak = 1; }); return 1; }'), {
      prompt: '', entryPoint: 'f', tests: [{ input: [], expected: 1 }, { assert: 'assert(typeof leak === "undefined", "leaked")' }],
    });
    expect(d.results.map((r) => r.reason)).toEqual([null, null]);
  });

  it.each([['setInterval'], ['setTimeout'], ['queueMicrotask'], ['setImmediate']])('%s does not exist', async (name) => {
    const v = await judge(`function f() { ${name}(() => {}, 0); return 1; }`);
    expect(v.reason).toMatch(new RegExp(`^test-error: ReferenceError: .*${name}`));
  });
});

describe('codeReward: very large outputs (typed verdict, reward 0, host memory bounded)', () => {
  const rssMb = () => process.memoryUsage().rss / 2 ** 20;
  const peaks: number[] = [];
  // A roomy CPU deadline, so the memory and output limits (not the clock of a loaded machine) decide.
  const roomy = createCodeRewardDetailed({ timeoutMs: 4000 });
  const corpus: Array<[string, string, RegExp]> = [
    ['string doubling', 'function f() { let s = "x"; for (;;) s = s + s; }', /^memory-limit/],
    ['one huge repeat', 'function f() { return "x".repeat(2 ** 29).length; }', /^memory-limit/],
    ['many 8 MB strings', 'function f() { const a = []; for (;;) a.push("x".repeat(8e6) + a.length); }', /^memory-limit/],
    ['typed arrays', 'function f() { const a = []; for (;;) a.push(new Float64Array(1e6)); }', /^memory-limit/],
    ['30 MB ArrayBuffers between polls', 'function f() { const a = []; for (let i = 0; i < 40; i++) a.push(new ArrayBuffer(3e7)); return a.length; }', /^memory-limit/],
    ['a 10⁷-element array', 'function f() { return new Array(1e7).fill(1); }', /^memory-limit/],
    ['a million-key object', 'function f() { const o = {}; for (let i = 0; ; i++) o["key" + i] = i; }', /^memory-limit/],
    ['a result with a giant string', 'function f() { return { ok: 1, blob: "x".repeat(5e6) }; }', /^output-too-large/],
    ['a long result array', 'function f() { return Array.from({ length: 3e5 }, (_, i) => i * 1000); }', /^output-too-large/],
    ['an exponential DAG result', 'function f() { let x = [1]; for (let i = 0; i < 60; i++) x = [x, x]; return x; }', /^output-too-large/],
    ['a sparse 10⁹-length array result', 'function f() { const a = []; a.length = 1e9; return a; }', /^output-too-large/],
  ];

  it.each(corpus)('%s', async (_name, code, reason) => {
    const v = await judge(code, 1, roomy);
    expect(v.score).toBe(0);
    expect(v.reason).toMatch(reason);
    expect(v.ms).toBeLessThan(100_000); // the wall-time backstop: 10 × the 9 s hard deadline (CPU time) + 10 s
    peaks.push(rssMb());
    await expectHostHealthy();
  });

  it('console output is discarded, not buffered: 200 MB of logging returns 1', async () => {
    const v = await judge('function f() { for (let i = 0; i < 200; i++) console.log("x".repeat(1e6)); return 1; }');
    expect(v.pass).toBe(true);
  });

  it('a thrown giant message is clipped inside the sandbox', async () => {
    const v = await judge('function f() { throw new Error("y".repeat(3e7)); }');
    expect(v.kind).toBe('test-error');
    expect(v.reason!.length).toBeLessThan(2100);
    const getter = await judge('function f() { throw { get message() { for (;;) {} } }; }');
    expect(getter.reason).toBe('test-error: Error: unreadable error');
  });

  it('host RSS stays bounded across the corpus (the sandbox heap is capped near its limit)', () => {
    // Before the WASM cap, the typed-array case alone grew this process by ~450 MB.
    expect(Math.max(...peaks) - Math.min(...peaks)).toBeLessThan(250);
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

describe('codeReward: verdicts do not depend on machine load', () => {
  // Busy threads compete for every core while the sandbox runs: with wall-clock deadlines the memory
  // bomb used to be cut off as a timeout on a loaded machine; CPU-time deadlines leave it to the
  // memory limit, as on an idle one.
  it('a memory bomb is memory-limit and an infinite loop a timeout, with every core busy', async () => {
    const { Worker } = await import('node:worker_threads');
    const { availableParallelism } = await import('node:os');
    const hogs = Array.from({ length: availableParallelism() }, () => new Worker('for (;;) {}', { eval: true }));
    try {
      const bomb = await judge('function f() { const a = []; for (;;) a.push("x".repeat(1e6) + a.length); }');
      expect(bomb.reason).toMatch(/^memory-limit/);
      const loop = await judge('function f() { for (;;) {} }');
      expect(loop.reason).toMatch(/^timeout: CPU deadline of 1000 ms/);
    } finally {
      await Promise.all(hogs.map((w) => w.terminate()));
    }
  });
});
