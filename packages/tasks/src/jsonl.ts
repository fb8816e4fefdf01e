import { createReadStream } from 'node:fs';
import { appendFile, mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { DatasetError, type DatasetProblem } from './errors.js';
import { checkOptionKeys } from './options.js';

/**
 * Options of {@link loadJsonl}.
 *
 * @example
 * ```ts
 * import type { LoadJsonlOptions } from '@r1-ts/tasks';
 * const opts: LoadJsonlOptions = { maxLineBytes: 4 << 20 };
 * ```
 */
export interface LoadJsonlOptions {
  /** A longer line is reported as a problem without being buffered (default 1 MiB). */
  maxLineBytes?: number;
}

/**
 * Reads a JSON Lines file and validates every line with a zod schema. Blank lines are allowed (and a
 * UTF-8 BOM, CRLF endings); everything else that is wrong — invalid JSON or UTF-8, a line longer than
 * `maxLineBytes`, a schema violation — is collected with its line number and field, and the whole
 * load fails with one {@link DatasetError} listing them all. Never skips a line silently. An empty
 * file, or one with only blank lines, is an error. Streams the file, so a huge line cannot hang it.
 *
 * @param path - The JSON Lines file.
 * @param schema - A zod schema every line must satisfy; its output type is the row type.
 * @param options - `maxLineBytes`: longest line accepted (default 1 MiB).
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { loadJsonl, writeJsonl } from '@r1-ts/tasks';
 * await writeJsonl('/tmp/qa.jsonl', [{ q: 'What is 2+2?', a: '4' }]);
 * const rows = await loadJsonl('/tmp/qa.jsonl', z.object({ q: z.string(), a: z.string() }));
 * console.log(rows[0].a); // 4
 * ```
 */
export async function loadJsonl<S extends z.ZodType>(path: string, schema: S, options: LoadJsonlOptions = {}): Promise<z.output<S>[]> {
  checkOptionKeys('loadJsonl', options, { maxLineBytes: true });
  const maxLineBytes = options.maxLineBytes ?? 1 << 20;
  const rows: z.output<S>[] = [];
  const problems: DatasetProblem[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let nonBlank = 0;

  const onLine = (bytes: Buffer, line: number): void => {
    let text: string;
    try {
      text = decoder.decode(line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes);
    } catch {
      nonBlank++;
      problems.push({ line, field: '(line)', message: 'invalid UTF-8' });
      return;
    }
    if (text.trim() === '') return;
    nonBlank++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      problems.push({ line, field: '(json)', message: `invalid JSON: ${(e as Error).message}` });
      return;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) {
      rows.push(parsed.data);
      return;
    }
    for (const issue of parsed.error.issues) {
      problems.push({ line, field: issue.path.length ? issue.path.map(String).join('.') : '(root)', message: issue.message });
    }
  };

  try {
    await scanLines(path, maxLineBytes, onLine, (line, bytes) => {
      nonBlank++;
      problems.push({ line, field: '(line)', message: `line longer than maxLineBytes = ${maxLineBytes} (${bytes} bytes)` });
    });
  } catch (e) {
    throw new DatasetError(path, [{ line: 0, field: '(file)', message: `cannot read: ${(e as Error).message}` }]);
  }
  if (nonBlank === 0) problems.push({ line: 0, field: '(file)', message: 'empty file: no JSON lines' });
  if (problems.length > 0) throw new DatasetError(path, problems);
  return rows;
}

/**
 * Splits a file into lines as raw bytes (\n, with a trailing \r dropped), streaming: a line past
 * `maxLineBytes` is dropped as it arrives and reported through `onLong` instead of being buffered.
 */
async function scanLines(
  path: string,
  maxLineBytes: number,
  onLine: (bytes: Buffer, line: number) => void,
  onLong: (line: number, bytes: number) => void,
): Promise<void> {
  let parts: Buffer[] = [];
  let length = 0;
  let line = 1;
  let tooLong = false;
  const add = (piece: Buffer): void => {
    length += piece.length;
    if (tooLong) return;
    if (length > maxLineBytes + 1) {
      tooLong = true; // + 1: room for a CR before the LF
      parts = [];
    } else parts.push(piece);
  };
  const end = (): void => {
    if (tooLong) onLong(line, length);
    else {
      let bytes = Buffer.concat(parts, length);
      if (bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
      if (bytes.length > maxLineBytes) onLong(line, bytes.length);
      else onLine(bytes, line);
    }
    parts = [];
    length = 0;
    tooLong = false;
    line++;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 16 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      add(chunk.subarray(start, nl));
      end();
      start = nl + 1;
    }
    if (start < chunk.length) add(chunk.subarray(start));
  }
  if (length > 0 || tooLong) end();
}

let tmpCounter = 0;

function serialise(path: string, rows: readonly unknown[]): string {
  return rows
    .map((row, i) => {
      const text = JSON.stringify(row);
      if (text === undefined) throw new DatasetError(path, [{ line: i + 1, field: '(row)', message: `row ${i} is not JSON-serialisable` }]);
      return `${text}\n`;
    })
    .join('');
}

/**
 * Writes rows as JSON Lines atomically: to a temporary file in the same directory, then renamed
 * over `path`, so readers never see a half-written file. Creates parent directories.
 *
 * @param path - The file to write (replaced whole).
 * @param rows - JSON-serialisable values, one per line.
 *
 * @example
 * ```ts
 * import { writeJsonl } from '@r1-ts/tasks';
 * await writeJsonl('/tmp/out/train.jsonl', [{ prompt: 'What is 1+1?', answer: '2' }]);
 * ```
 */
export async function writeJsonl(path: string, rows: readonly unknown[]): Promise<void> {
  const text = serialise(path, rows);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}-${tmpCounter++}`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Appends rows as JSON Lines (creating the file and its directories). If the file ends in a partial
 * line (a crash mid-write), a newline is written first so the new rows stay whole; `loadJsonl` then
 * reports the partial line rather than merging it with the next row.
 *
 * @param path - The file to append to (created when missing).
 * @param rows - JSON-serialisable values, one per line.
 *
 * @example
 * ```ts
 * import { appendJsonl } from '@r1-ts/tasks';
 * await appendJsonl('/tmp/out/samples.jsonl', [{ step: 1, completion: '<think>…</think><answer>4</answer>' }]);
 * ```
 */
export async function appendJsonl(path: string, rows: readonly unknown[]): Promise<void> {
  let text = serialise(path, rows);
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(path, 'a+');
  try {
    const { size } = await handle.stat();
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) text = `\n${text}`;
    }
  } finally {
    await handle.close();
  }
  await appendFile(path, text);
}
