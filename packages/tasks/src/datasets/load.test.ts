import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetError } from '../errors.js';
import { writeJsonl } from '../jsonl.js';
import { loadDataset } from './load.js';

// Parquet files written by pyarrow: test/fixtures/datasets/make_parquet.py.
const FIXTURES = resolve(__dirname, '../../test/fixtures/datasets');
const tmp = (name: string) => join(mkdtempSync(join(tmpdir(), 'ds-')), name);

async function datasetError(p: Promise<unknown>): Promise<DatasetError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(DatasetError);
  return e as DatasetError;
}

describe('loadDataset: JSONL', () => {
  it('recognises GSM8K, MATH, chat and prompt/answer rows', async () => {
    const path = tmp('mixed.jsonl');
    await writeJsonl(path, [
      { question: 'Tom has 2 apples and buys 3. How many?', answer: '2 + 3 = 5\n#### 5' },
      { problem: 'Compute $6 \\times 7$.', solution: 'so $\\boxed{42}$', unique_id: 'm/1' },
      { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi?' }, { role: 'assistant', content: 'Hello.' }] },
      { prompt: 'What is 3+4?', answer: 7 },
    ]);
    const rows = await loadDataset(path);
    expect(rows.map((r) => [r.id, r.task, r.prompt, r.answer])).toEqual([
      ['mixed.jsonl:1', 'gsm8k', 'Tom has 2 apples and buys 3. How many?', '5'],
      ['m/1', 'math', 'Compute $6 \\times 7$.', '42'],
      ['mixed.jsonl:3', 'chat', 'Hi?', ''],
      ['mixed.jsonl:4', 'dataset', 'What is 3+4?', '7'],
    ]);
    expect(rows[0].completion).toBe('2 + 3 = 5\n#### 5');
    expect(rows[1].completion).toBe('so $\\boxed{42}$');
    expect(rows[2].messages).toEqual([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi?' }]);
    expect(rows[2].completion).toBe('Hello.');
  });

  it('maps columns', async () => {
    const path = tmp('custom.jsonl');
    await writeJsonl(path, [{ input: 'Sum 1 and 2.', target: 'It is 1+2 = \\boxed{3}', cot: 'one plus two' }]);
    const [r] = await loadDataset(path, { promptColumn: 'input', answerColumn: 'target', completionColumn: 'cot' });
    expect([r.prompt, r.answer, r.completion]).toEqual(['Sum 1 and 2.', '3', 'one plus two']);
  });

  it('bad rows → one DatasetError with every line number and column', async () => {
    const path = tmp('bad.jsonl');
    writeFileSync(path, [
      JSON.stringify({ question: 'ok', answer: '#### 1' }),
      JSON.stringify({ question: 'no final', answer: 'forgot it' }),
      '{ not json',
      JSON.stringify({ messages: [{ role: 'robot', content: 'x' }] }),
      JSON.stringify({ input: 'x' }),
    ].join('\n'));
    const err = await datasetError(loadDataset(path));
    expect(err.problems.map((p) => [p.line, p.field])).toEqual([[2, 'answer'], [3, '(json)'], [4, 'messages'], [5, '(root)']]);
    expect(err.message).toContain('line 2, answer');
    const mapped = await datasetError(loadDataset(path, { promptColumn: 'input', answerColumn: 'gold' }));
    expect(mapped.problems.find((p) => p.line === 5)?.field).toBe('gold');
  });

  it('unknown extension and missing file are DatasetErrors naming the file', async () => {
    expect((await datasetError(loadDataset('/tmp/x.csv'))).message).toMatch(/x\.csv.*unknown dataset format '\.csv'/s);
    expect((await datasetError(loadDataset('/nonexistent/d.parquet'))).message).toMatch(/cannot read/);
  });
});

describe('loadDataset: Parquet (written by pyarrow)', () => {
  it('reads GSM8K columns', async () => {
    const rows = await loadDataset(join(FIXTURES, 'gsm8k.parquet'));
    expect(rows.map((r) => [r.task, r.answer])).toEqual([['gsm8k', '5'], ['gsm8k', '1234']]);
  });

  it('reports a bad row by its row number', async () => {
    const err = await datasetError(loadDataset(join(FIXTURES, 'gsm8k_bad_row.parquet')));
    expect(err.problems).toEqual([expect.objectContaining({ line: 3, unit: 'row', field: 'answer' })]);
    expect(err.message).toContain('row 3, answer');
  });

  it('reads chat messages (list of structs), int64 answers and \\boxed{} solutions', async () => {
    const path = join(FIXTURES, 'openr1.parquet');
    const chat = await loadDataset(path);
    expect(chat.map((r) => [r.task, r.prompt, r.answer, r.completion])).toEqual([
      ['chat', 'Compute $6 \\times 7$.', '42', '<think>6*7</think> 42'],
      ['chat', 'Simplify 2/4.', '\\frac{1}{2}', '1/2'],
    ]);
    expect(chat[1].messages?.[0]).toEqual({ role: 'system', content: 'Be brief.' });
    const math = await loadDataset(path, { promptColumn: 'problem', limit: 1 });
    expect(math.map((r) => [r.prompt, r.answer])).toEqual([['Compute $6 \\times 7$.', '42']]);
  });

  it('a file that is not Parquet is a DatasetError', async () => {
    const path = tmp('fake.parquet');
    writeFileSync(path, 'not parquet at all');
    expect((await datasetError(loadDataset(path))).message).toMatch(/not a readable Parquet file/);
  });
});
