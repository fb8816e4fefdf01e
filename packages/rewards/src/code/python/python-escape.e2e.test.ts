// The Python sandbox's escape corpus: each program gets a verdict (reward 0 and a typed reason), the
// host is untouched, the next program is graded within a second, host memory stays bounded.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RewardSample } from '../../types.js';
import { createPythonCodeRewardDetailed, warmPythonSandbox } from './python-reward.js';

const LIMITS = { timeoutMs: 1000, memoryLimitBytes: 128 * 2 ** 20 };
const grade = createPythonCodeRewardDetailed(LIMITS);
// A roomy CPU limit for the memory cases, so the memory limit decides (same pool of interpreters).
const roomy = createPythonCodeRewardDetailed({ ...LIMITS, timeoutMs: 5000 });
const fence = (code: string) => `\`\`\`python\n${code}\n\`\`\``;
const sample: RewardSample = { prompt: 'Print pong.', tests: [{ input: 'ping\n', output: 'pong\n' }] };
const HEALTHY = 'assert input() == "ping"\nprint("pong")';
const hostDir = mkdtempSync(join(tmpdir(), 'r1-escape-'));
const hostFile = join(hostDir, 'pwned');
const rssMb = () => process.memoryUsage().rss / 2 ** 20;

const corpus: Array<[string, string, RegExp]> = [
  // processes
  ['os.system', `import os\nprint(os.system("touch ${hostFile}; echo pong"))`, /^wrong-answer: expected "pong\\n", got "-1\\n"/],
  ['os.popen', 'import os\nprint(os.popen("echo pong").read())', /^test-error: OSError: .*does not support processes/],
  ['subprocess', 'import subprocess\nprint(subprocess.run(["echo", "pong"], capture_output=True).stdout)', /^test-error: OSError: .*does not support processes/],
  ['os.fork', 'import os\nos.fork()\nprint("pong")', /^test-error: (AttributeError|OSError)/],
  ['os.execv', 'import os\nos.execv("/bin/sh", ["sh", "-c", "echo pong"])', /^test-error: (AttributeError|OSError)/],
  // network
  ['socket connect', 'import socket\ns = socket.socket()\ns.connect(("127.0.0.1", 22))\nprint("pong")', /^test-error: PermissionError/],
  ['DNS lookup', 'import socket\nprint(socket.gethostbyname("example.com"))', /^test-error: gaierror/],
  ['urllib', 'import urllib.request\nprint(urllib.request.urlopen("http://example.com").read())', /^test-error: /],
  // host files
  ['open /etc/passwd', 'print(open("/etc/passwd").read())', /^test-error: FileNotFoundError/],
  ['read a host file by absolute path', `print(open(${JSON.stringify(join(process.cwd(), 'package.json'))}).read())`, /^test-error: FileNotFoundError/],
  ['write a host path', `open(${JSON.stringify(hostFile)}, "w").write("x")`, /^test-error: (FileNotFoundError|PermissionError)/],
  ['overwrite the stdlib', 'open("/lib/python313.zip", "wb").write(b"")', /^test-error: PermissionError/],
  // the FFI back to JavaScript
  ['import js', 'import js\nprint(js.process.env)', /^test-error: ImportError: import of 'js' is not allowed/],
  ['from pyodide.ffi import', 'from pyodide.ffi import to_js\nprint(to_js({}))', /^test-error: ImportError: import of 'pyodide' is not allowed/],
  ['import pyodide_js', 'import pyodide_js\nprint(pyodide_js.FS)', /^test-error: ImportError: import of 'pyodide_js' is not allowed/],
  ['re-import js past the blocker', 'import sys\nsys.meta_path.pop(0)\nsys.modules.pop("js", None)\nimport js', /^test-error: ModuleNotFoundError: No module named 'js'/],
  ['_pyodide_core past the blocker → Function constructor', 'import sys\nsys.meta_path.pop(0)\nimport _pyodide_core\nobj = _pyodide_core.to_js({})\nprint(obj.constructor.constructor("return process")())', /^test-error: JsException: /],
  ['to_js found by the garbage collector', 'import gc\nf = [o for o in gc.get_objects() if getattr(o, "__name__", "") == "to_js"][0]\nprint(f({}, create_pyproxies=False).constructor.constructor("return 1")())', /^test-error: /],
  ['ctypes', 'import ctypes\nprint(ctypes.CDLL(None))', /^test-error: ImportError: import of 'ctypes' is not allowed/],
  // CPU
  ['infinite loop', 'while True:\n    pass', /^timeout: CPU time limit of 1000 ms exceeded/],
  ['while True: pass in a finally', 'try:\n    raise SystemExit(0)\nfinally:\n    while True:\n        pass', /^timeout: CPU time limit/],
  ['a loop that swallows every exception', 'while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass', /^timeout: CPU time limit/],
  ['signal handlers that ignore interrupts', 'import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass', /^timeout: CPU time limit/],
  // stack
  ['deep recursion', 'def f(n):\n    return f(n + 1) + 1\nf(0)', /^stack-overflow: RecursionError/],
  // Python 3.13 keeps Python frames on the heap: with the limit raised, deep recursion is memory use.
  ['deep recursion with a raised limit', 'import sys\nsys.setrecursionlimit(10**7)\ndef f(n):\n    pad = [n] * 10000\n    return f(n + 1) + 1\nf(0)', /^memory-limit/],
  // memory
  ['memory bomb', 'a = []\nwhile True:\n    a.append(" " * 10**6)', /^memory-limit/],
  ['memory bomb that catches MemoryError', 'try:\n    a = []\n    while True:\n        a.append(bytearray(10**6))\nexcept MemoryError:\n    a = None\nprint("pong")', /^memory-limit/],
  ['one 1.5 GB allocation', 'x = bytearray(1_500_000_000)\nprint("pong")', /^memory-limit/],
  ['fill /tmp', 'with open("/tmp/big", "wb") as f:\n    while True:\n        f.write(b"x" * 4 * 10**6)', /^memory-limit/],
  ['many files, one big write each', 'i = 0\nwhile True:\n    open("/tmp/f%d" % i, "wb").write(b"x" * 10**7)\n    i += 1', /^memory-limit/],
  ['string doubling', 's = "x"\nwhile True:\n    s = s + s', /^memory-limit/],
  // output
  ['huge output', 'while True:\n    print("x" * 1000)', /^output-too-large/],
  ['huge output, limit exception swallowed', 'try:\n    while True:\n        print("x" * 1000)\nexcept BaseException:\n    pass\nprint("pong")', /^output-too-large/],
  ['huge stderr', 'import sys\nwhile True:\n    sys.stderr.write("x" * 1000)', /^output-too-large/],
  ['fd-level output is dropped', 'import os\nfor _ in range(1000):\n    os.write(1, b"pong\\n" * 1000)', /^wrong-answer: expected "pong\\n", got ""/],
  // process control
  ['threads', 'import threading\nt = threading.Thread(target=print, args=("pong",))\nt.start()\nt.join()', /^test-error: RuntimeError: can't start new thread/],
  ['sys.exit(1)', 'import sys\nprint("pong")\nsys.exit(1)', /^test-error: SystemExit: 1/],
  ['os._exit(1)', 'import os\nprint("pong")\nos._exit(1)', /^test-error: SystemExit: 1/],
  // tampering with the grader
  ['override print and input', 'import builtins\nbuiltins.print = lambda *a, **k: None\nbuiltins.input = lambda *a: "pong"\nprint(input())', /^wrong-answer: expected "pong\\n", got ""/],
  ['clear builtins', 'import builtins\nbuiltins.__dict__.clear()', /^test-error: HarnessError/],
  ['patch json and the harness', 'import json, __main__\njson.dumps = lambda *a, **k: \'{"status": "ok", "stdout": "pong\\\\n"}\'\n__main__._r1_run.__defaults__ = None\nprint("pang")', /^wrong-answer: expected "pong\\n", got "pang\\n"/],
  ['replace sys.stdout', 'import sys, io\nsys.stdout = io.StringIO()\nprint("pong")', /^wrong-answer: expected "pong\\n", got ""/],
];

beforeAll(async () => {
  await warmPythonSandbox(LIMITS);
});

afterAll(() => rmSync(hostDir, { recursive: true, force: true }));

describe('python sandbox: escape corpus (each → reward 0 with a typed reason, host unaffected)', () => {
  const rss: number[] = [];
  const hostCwd = process.cwd();

  it('has at least 30 cases', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(30);
  });

  it.each(corpus)('%s', async (_name, code, reason) => {
    await warmPythonSandbox(LIMITS); // the spare is started: what a kill costs the next program is then only the hand-over
    rss.push(rssMb());
    const d = await (reason.source.startsWith('^memory-limit') ? roomy : grade)(fence(code), sample);
    expect(d.score).toBe(0);
    expect(d.results[0].reason).toMatch(reason);
    // The next evaluation runs, correctly, within a second of the verdict.
    const t0 = performance.now();
    const next = await grade(fence(HEALTHY), sample);
    const ms = performance.now() - t0;
    expect(next.results[0].reason).toBeNull();
    expect(ms).toBeLessThan(1000);
    expect(existsSync(hostFile)).toBe(false);
    expect(process.cwd()).toBe(hostCwd);
  });

  it('host RSS stays bounded across the corpus', () => {
    rss.push(rssMb());
    // Killed or memory-bombed interpreters are terminated and their memory returned; what remains
    // is the pool (2 interpreters of at most 20 MB + 128 MB heap each) and the snapshot.
    expect(Math.max(...rss) - rss[0]).toBeLessThan(600);
  });
});

describe('python sandbox: one program cannot affect the next', () => {
  it('files written in /tmp and the working directory are gone', async () => {
    const write = await grade(fence('open("/tmp/leak", "w").write("pong")\nopen("leak2", "w").write("pong")\nprint(open("/tmp/leak").read() + open("leak2").read())'), {
      prompt: '', tests: [{ input: '', output: 'pongpong' }],
    });
    expect(write.score).toBe(1);
    const read = await grade(fence('import os\nprint(os.path.exists("/tmp/leak"), os.path.exists("leak2"), os.getcwd())'), {
      prompt: '', tests: [{ input: '', output: 'False False /home/pyodide' }],
    });
    expect(read.results[0].reason).toBeNull();
  });

  it('module patches, sys state and globals are rewound', async () => {
    await grade(fence('import math, sys, json, random\nmath.pi = 3\nsys.setrecursionlimit(50)\njson.loads = None\nrandom.seed(1)\nimport builtins\nbuiltins.leak = 1'), sample);
    const d = await grade(fence('import math, sys, json, builtins\nprint(math.pi, sys.getrecursionlimit(), json.loads("[1]"), hasattr(builtins, "leak"))'), {
      prompt: '', tests: [{ input: '', output: '3.141592653589793 1000 [1] False' }],
    });
    expect(d.results[0].reason).toBeNull();
  });

  it('every program sees the same interpreter state (random draws repeat)', async () => {
    const code = 'import random\nprint(random.random())';
    const a = await grade(fence(code), { prompt: '', tests: [{ input: '', output: 'x' }] });
    await grade(fence('import random\nfor _ in range(1000): random.random()'), sample);
    const b = await grade(fence(code), { prompt: '', tests: [{ input: '', output: 'x' }] });
    expect(a.results[0].reason).toMatch(/^wrong-answer: expected "x", got "0\.\d+\\n"$/);
    expect(b.results[0].reason).toBe(a.results[0].reason);
  });

  it('a test killed for time stops the rest of the program: later tests are not-run', async () => {
    const d = await grade(fence('n = int(input())\nwhile n == 2:\n    pass\nprint(n)'), {
      prompt: '', tests: [{ input: '1', output: '1' }, { input: '2', output: '2' }, { input: '3', output: '3' }],
    });
    expect(d.results.map((r) => r.kind)).toEqual([null, 'timeout', 'not-run']);
    expect(d.score).toBeCloseTo(1 / 3);
  });
});

describe('python sandbox: verdicts do not depend on machine load', () => {
  it('with every core busy, a memory bomb is memory-limit and an infinite loop a CPU-time timeout', async () => {
    const { Worker } = await import('node:worker_threads');
    const { availableParallelism } = await import('node:os');
    await warmPythonSandbox(LIMITS);
    const hogs = Array.from({ length: availableParallelism() }, () => new Worker('for (;;) {}', { eval: true }));
    try {
      const bomb = await roomy(fence('a = []\nwhile True:\n    a.append(" " * 10**6)'), sample);
      expect(bomb.results[0].reason).toMatch(/^memory-limit/);
      const loop = await grade(fence('while True:\n    pass'), sample);
      expect(loop.results[0].kind).toBe('timeout');
    } finally {
      await Promise.all(hogs.map((w) => w.terminate()));
    }
  });
});
