import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DatasetError } from './errors.js';
import { appendJsonl, loadJsonl, writeJsonl } from './jsonl.js';
import { lastBoxed, loadMathJsonl } from './math-jsonl.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'r1-tasks-'));
});

const schema = z.object({
  prompt: z.string(),
  answer: z.string(),
  tests: z.array(z.object({ fn: z.string(), input: z.array(z.unknown()), expected: z.unknown() })).optional(),
});

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function problems(path: string, options = {}): Promise<DatasetError> {
  const err = await loadJsonl(path, schema, options).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatasetError);
  return err as DatasetError;
}

describe('loadJsonl', () => {
  it('reads rows, allowing blank lines, a BOM, CRLF and no final newline', async () => {
    const path = file('ok.jsonl', '\uFEFF{"prompt":"a","answer":"1"}\r\n\n   \n{"prompt":"b","answer":"2","tests":[{"fn":"f","input":[1],"expected":2}]}');
    const rows = await loadJsonl(path, schema);
    expect(rows).toEqual([
      { prompt: 'a', answer: '1' },
      { prompt: 'b', answer: '2', tests: [{ fn: 'f', input: [1], expected: 2 }] },
    ]);
  });

  it('reports every malformed line with its line number and field, never skipping one', async () => {
    const lines = [
      '{"prompt":"a","answer":"1"}', // 1 ok
      '{"prompt":"b","answer":2}', // 2 wrong type
      '', // 3 blank
      '{"prompt":"c", "answer": "3"', // 4 bad JSON
      '{"answer":"4"}', // 5 missing prompt
      '{"prompt":"e","answer":"5","tests":[{"fn":1,"input":[],"expected":0}]}', // 6 nested
      '[1,2]', // 7 not an object
    ];
    const err = await problems(file('bad.jsonl', lines.join('\n') + '\n'));
    expect(err.problems.map((p) => [p.line, p.field])).toEqual([
      [2, 'answer'],
      [4, '(json)'],
      [5, 'prompt'],
      [6, 'tests.0.fn'],
      [7, '(root)'],
    ]);
    expect(err.problems[0].message).toMatch(/expected string/);
    expect(err.message).toMatch(/bad\.jsonl: 5 problem\(s\)\n {2}line 2, answer:/);
    expect(err.code).toBe('E_DATASET');
  });

  it('an empty file or one with only blank lines is an error', async () => {
    for (const [name, content] of [['empty.jsonl', ''], ['blank.jsonl', '\n  \n\r\n']]) {
      const err = await problems(file(name, content));
      expect(err.problems).toEqual([{ line: 0, field: '(file)', message: 'empty file: no JSON lines' }]);
    }
  });

  it('a missing file is a DatasetError', async () => {
    const err = await problems(join(dir, 'nope.jsonl'));
    expect(err.problems[0]).toMatchObject({ line: 0, field: '(file)' });
    expect(err.problems[0].message).toMatch(/ENOENT/);
  });

  it('a huge line is reported without hanging, and later lines keep their numbers', async () => {
    const huge = `{"prompt":"${'x'.repeat(3 << 20)}","answer":"1"}`;
    const path = file('huge.jsonl', `{"prompt":"a","answer":"1"}\n${huge}\n{"prompt":"c","answer":3}\n`);
    const t0 = Date.now();
    const err = await problems(path);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(err.problems.map((p) => [p.line, p.field])).toEqual([
      [2, '(line)'],
      [3, 'answer'],
    ]);
    expect(err.problems[0].message).toMatch(/longer than maxLineBytes = 1048576/);
    // configurable, and the limit is inclusive
    const line = '{"prompt":"ab","answer":"1"}';
    const exact = file('exact.jsonl', `${line}\r\n`);
    expect(await loadJsonl(exact, schema, { maxLineBytes: line.length })).toHaveLength(1);
    expect((await problems(exact, { maxLineBytes: line.length - 1 })).problems[0].field).toBe('(line)');
  });

  it('invalid UTF-8 is reported with its line', async () => {
    const path = file('utf8.jsonl', Buffer.concat([Buffer.from('{"prompt":"a","answer":"1"}\n{"prompt":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","answer":"1"}\n')]));
    expect((await problems(path)).problems).toEqual([{ line: 2, field: '(line)', message: 'invalid UTF-8' }]);
  });
});

describe('writeJsonl / appendJsonl', () => {
  it('writes atomically (no temporary file left) and round-trips', async () => {
    const path = join(dir, 'sub', 'out.jsonl');
    const rows = [{ prompt: 'line\nbreak', answer: '1' }, { prompt: 'é', answer: '2' }];
    await writeJsonl(path, rows);
    await writeJsonl(path, rows); // overwrite
    expect(await loadJsonl(path, schema)).toEqual(rows);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['out.jsonl']);
  });

  it('refuses rows that are not JSON and leaves the old file untouched', async () => {
    const path = join(dir, 'keep.jsonl');
    await writeJsonl(path, [{ prompt: 'a', answer: '1' }]);
    await expect(writeJsonl(path, [{ prompt: 'b', answer: '2' }, undefined])).rejects.toThrow(DatasetError);
    expect(readFileSync(path, 'utf8')).toBe('{"prompt":"a","answer":"1"}\n');
  });

  it('appends, creating the file, and repairs a partial last line', async () => {
    const path = join(dir, 'app', 'samples.jsonl');
    await appendJsonl(path, [{ prompt: 'a', answer: '1' }]);
    await appendJsonl(path, [{ prompt: 'b', answer: '2' }]);
    expect(await loadJsonl(path, schema)).toHaveLength(2);
    writeFileSync(path, readFileSync(path, 'utf8') + '{"prompt":"cut');
    await appendJsonl(path, [{ prompt: 'c', answer: '3' }]);
    const err = await problems(path);
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatchObject({ line: 3, field: '(json)' });
    expect(readFileSync(path, 'utf8').split('\n')[3]).toBe('{"prompt":"c","answer":"3"}');
  });
});

describe('loadMathJsonl', () => {
  it('maps GSM8K and MATH rows to samples', async () => {
    const path = file('math.jsonl', [
      JSON.stringify({ question: 'Q1?', answer: 'He has 1,000+234 = <<1000+234=1234>>1,234\n#### 1,234' }),
      JSON.stringify({ problem: 'P2', solution: 'Thus $\\boxed{\\frac{1}{2}}$ and not \\boxed{3}... final $\\boxed{\\frac{\\sqrt{2}}{2}}$.', level: 'Level 4', type: 'Algebra' }),
      JSON.stringify({ problem: 'P3', solution: 'long', answer: '7', unique_id: 'test/x/3.json', level: 2 }),
    ].join('\n'));
    const samples = await loadMathJsonl(path);
    expect(samples).toEqual([
      { id: 'math.jsonl:1', task: 'gsm8k', prompt: 'Q1?', answer: '1234', language: 'en', difficulty: 0, meta: { solution: 'He has 1,000+234 = <<1000+234=1234>>1,234' } },
      { id: 'math.jsonl:2', task: 'math', prompt: 'P2', answer: '\\frac{\\sqrt{2}}{2}', language: 'en', difficulty: 4, meta: { solution: expect.any(String), subject: 'Algebra' } },
      { id: 'test/x/3.json', task: 'math', prompt: 'P3', answer: '7', language: 'en', difficulty: 2, meta: { solution: 'long' } },
    ]);
  });

  it('reports rows without a final answer, with line and field', async () => {
    const path = file('math-bad.jsonl', [
      JSON.stringify({ question: 'Q?', answer: 'no marker' }),
      JSON.stringify({ problem: 'P', solution: 'no box' }),
      JSON.stringify({ text: 'neither' }),
      JSON.stringify({ question: 'Q?', answer: '#### 5' }),
    ].join('\n'));
    const err = await loadMathJsonl(path).catch((e: unknown) => e as DatasetError);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).problems.map((p) => [p.line, p.field])).toEqual([
      [1, 'answer'],
      [2, 'solution'],
      [3, '(root)'],
    ]);
  });

  it.each([
    ['\\boxed{42}', '42'],
    ['a \\boxed{1} b \\boxed{ {2}+{3} }', '{2}+{3}'],
    ['\\fbox{x}', 'x'],
    ['\\boxed{unclosed', null],
    ['no box', null],
    ['\\boxed 5 then {x}', null],
  ])('lastBoxed(%s) = %s', (text, want) => {
    expect(lastBoxed(text)).toBe(want);
  });
});
