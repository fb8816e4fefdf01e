import { beforeAll, describe, expect, it } from 'vitest';
import { RewardConfigError } from '../../errors.js';
import type { RewardSample } from '../../types.js';
import { lastPythonBlock } from '../extract-code.js';
import { outputsMatch } from './compare.js';
import { createPythonCodeReward, createPythonCodeRewardDetailed, warmPythonSandbox } from './python-reward.js';

const fence = (code: string, tag = 'python') => `<think>I will read two numbers.</think>\nHere it is:\n\`\`\`${tag}\n${code}\n\`\`\`\n`;
const grade = createPythonCodeRewardDetailed({ timeoutMs: 2000 });

const sumSample: RewardSample = {
  prompt: 'Read a and b, print a + b.',
  tests: [
    { input: '1 2\n', output: '3\n' },
    { input: '-5 5', output: '0' },
    { input: '100 23\n', output: '123  \n\n' }, // trailing whitespace and blank lines do not count
    { input: '7 8\n', output: '15\n', type: 'stdin_stdout' }, // open-r1's verification_info form
  ],
};

beforeAll(async () => {
  await warmPythonSandbox();
});

describe('pythonCodeReward: stdin/stdout tests', () => {
  it('a correct program passes every test', async () => {
    const d = await grade(fence('a, b = map(int, input().split())\nprint(a + b)'), sumSample);
    expect(d.results.map((r) => r.reason)).toEqual([null, null, null, null]);
    expect(d.score).toBe(1);
  });

  it('a partly correct program gets the pass rate (binary: 0), with reasons', async () => {
    const code = 'a, b = map(int, input().split())\nprint(a + b if a > 0 else 42)';
    const d = await grade(fence(code), sumSample);
    expect(d.score).toBe(0.75);
    expect(d.results[1]).toEqual({ pass: false, kind: 'wrong-answer', reason: 'wrong-answer: expected "0", got "42\\n"' });
    expect(await createPythonCodeReward({ binary: true, timeoutMs: 2000 })(fence(code), sumSample)).toBe(0);
  });

  it('reads all of stdin with sys.stdin and multi-line output', async () => {
    const sample: RewardSample = { prompt: '', tests: [{ input: '3\n1 2 3\n', output: '3\n2\n1' }, { input: '1\n9\n', output: '9\n' }] };
    const code = 'import sys\ndata = sys.stdin.read().split()\nn = int(data[0])\nfor x in reversed(data[1:1 + n]):\n    print(x)';
    expect((await grade(fence(code), sample)).score).toBe(1);
  });

  it('sys.exit(0) ends the program normally; a non-zero exit is a test error', async () => {
    const sample: RewardSample = { prompt: '', tests: [{ input: '', output: 'done' }] };
    expect((await grade(fence('import sys\nprint("done")\nsys.exit(0)\nprint("never")'), sample)).score).toBe(1);
    const d = await grade(fence('import sys\nprint("done")\nsys.exit(3)'), sample);
    expect(d.results[0].reason).toBe('test-error: SystemExit: 3');
  });

  it('syntax and runtime errors are typed', async () => {
    expect((await grade(fence('def f(:\n  pass'), sumSample)).results[0].kind).toBe('syntax-error');
    const d = await grade(fence('print(1 // 0)'), sumSample);
    expect(d.results[0].reason).toBe('test-error: ZeroDivisionError: integer division or modulo by zero');
  });

  it('stdlib modules work offline (nothing is downloaded)', async () => {
    const code = 'import heapq, bisect, collections, itertools, functools, fractions, decimal, math, re, json, statistics\n' +
      'a, b = map(int, input().split())\nprint(int(fractions.Fraction(a) + int(decimal.Decimal(b))))';
    expect((await grade(fence(code), sumSample)).score).toBe(1);
  });
});

describe('pythonCodeReward: function-call and assert tests', () => {
  it('calls a top-level function or a method of class Solution (LiveCodeBench)', async () => {
    const sample: RewardSample = {
      prompt: '',
      entryPoint: 'twoSum',
      tests: [
        { args: [[2, 7, 11, 15], 9], expected: [0, 1] },
        { input: '[3,2,4]\n6', output: '[1,2]', testtype: 'functional' },
        { input: '[3,3]\n6', output: '[0,1]', testtype: 'functional' },
      ],
    };
    const top = 'def twoSum(nums, target):\n    seen = {}\n    for i, x in enumerate(nums):\n        if target - x in seen:\n            return (seen[target - x], i)\n        seen[x] = i';
    expect((await grade(fence(top), sample)).score).toBe(1); // a tuple compares as a list, as JSON
    const cls = 'from typing import List\nclass Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n' +
      '        for i in range(len(nums)):\n            for j in range(i + 1, len(nums)):\n                if nums[i] + nums[j] == target:\n                    return [i, j]';
    expect((await grade(fence(cls), sample)).score).toBe(1);
  });

  it('compares call results by deep equality with a float tolerance', async () => {
    const sample: RewardSample = {
      prompt: '',
      tests: [
        { fn: 'f', args: [], expected: { a: [1, 0.3], b: null, c: 'x' } },
        { fn: 'f', args: [], expected: { a: [1, 0.3], b: null, c: 'y' } },
        { fn: 'g', args: [], expected: 1 },
      ],
    };
    const d = await grade(fence('def f():\n    return {"c": "x", "a": [1, 0.1 + 0.2], "b": None}\ndef g():\n    return {1, 2}'), sample);
    expect(d.results.map((r) => r.kind)).toEqual([null, 'wrong-answer', 'test-error']);
    expect(d.results[2].reason).toBe('test-error: Unserializable: return value is not JSON data: set');
  });

  it('assert tests pass when nothing is raised (HumanEval/MBPP)', async () => {
    const sample: RewardSample = { prompt: '', tests: [{ assert: 'assert add(1, 2) == 3' }, { assert: 'assert add(2, 2) == 5, "2+2"' }] };
    const d = await grade(fence('def add(a, b):\n    return a + b'), sample);
    expect(d.results.map((r) => r.reason)).toEqual([null, 'test-error: AssertionError: 2+2']);
  });

  it('a missing function is a test error naming it', async () => {
    const d = await grade(fence('def other():\n    return 1'), { prompt: '', tests: [{ fn: 'wanted', args: [], expected: 1 }] });
    expect(d.results[0].reason).toBe('test-error: NameError: no function named wanted');
  });
});

describe('pythonCodeReward: extraction and configuration', () => {
  it('takes the last ```python block of the answer, as open-r1 does', () => {
    const c = '<think>```python\nprint(0)\n```</think>\n```python\nprint(1)\n```\ntext\n```py\nprint(2)\n```\n```js\nconsole.log(3)\n```';
    expect(lastPythonBlock(c)).toBe('print(2)\n');
    expect(lastPythonBlock('```python\nprint(1)\n```')).toBe('print(1)\n');
    expect(lastPythonBlock('<think>```python\nprint(0)\n```</think> no code')).toBeNull();
  });

  it('no tests → null; no python block → 0 with a reason', async () => {
    expect(await createPythonCodeReward()(fence('print(1)'), { prompt: '' })).toBeNull();
    const d = await grade(fence('console.log(3)', 'js'), sumSample);
    expect(d.score).toBe(0);
    expect(d.reason).toMatch(/^no-code-block/);
  });

  it('compares outputs by lines (default), tokens or exactly', () => {
    expect(outputsMatch('1 2\r\n3  \n\n', '1 2\n3', 'lines')).toBe(true);
    expect(outputsMatch('1  2\n3', '1 2\n3', 'lines')).toBe(false);
    expect(outputsMatch('1  2\n3', '1 2\n3', 'tokens')).toBe(true);
    expect(outputsMatch('1\n2\n', '1 2', 'tokens')).toBe(true);
    expect(outputsMatch('1\n2\n', '1\n2', 'exact')).toBe(false);
    expect(outputsMatch('3\n4', '3', 'lines')).toBe(false); // an extra line is wrong (open-r1's zip would skip it)
  });

  it.each([
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ memoryLimitBytes: 1000 }, 'memoryLimitBytes'],
    [{ compare: 'fuzzy' as never }, 'compare'],
    [{ entryPoint: 'a-b' }, 'entryPoint'],
    [{ poolSize: 0 }, 'poolSize'],
    [{ binary: 'yes' as never }, 'binary'],
  ])('%o names %s', (options, field) => {
    expect(() => createPythonCodeRewardDetailed(options)).toThrow(RewardConfigError);
    expect(() => createPythonCodeRewardDetailed(options)).toThrow(field);
  });

  it('malformed tests throw a RewardConfigError naming the field', async () => {
    await expect(grade(fence('print(1)'), { prompt: '', tests: [{ input: 1, output: '1' } as never] })).rejects.toThrow('sample.tests[0].input');
    await expect(grade(fence('print(1)'), { prompt: '', tests: [{ args: [1], expected: 1 }] })).rejects.toThrow('sample.tests[0].fn');
    await expect(grade(fence('print(1)'), { prompt: '', tests: [{ input: 'x', output: '1', testtype: 'functional', fn: 'f' }] })).rejects.toThrow(RewardConfigError);
  });
});
