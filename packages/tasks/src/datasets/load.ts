import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { DatasetError, type DatasetProblem } from '../errors.js';
import { loadJsonl } from '../jsonl.js';
import { datasetRow, type ColumnMapping, type DatasetSample } from './rows.js';
import { checkOptionKeys } from '../options.js';

/**
 * Options of {@link loadDataset}.
 *
 * @example
 * ```ts
 * import type { LoadDatasetOptions } from '@r1-ts/tasks';
 * const o: LoadDatasetOptions = { format: 'parquet', promptColumn: 'problem', answerColumn: 'answer', limit: 1000 };
 * ```
 */
export interface LoadDatasetOptions extends ColumnMapping {
  /** File format; by default from the extension (`.jsonl`/`.ndjson` → jsonl, `.parquet` → parquet). */
  format?: 'jsonl' | 'parquet';
  /** Keep only the first N rows (after validation of those rows). */
  limit?: number;
}

/**
 * Loads a dataset file — JSON Lines or Parquet (read in pure JS by `hyparquet`; snappy or
 * uncompressed) — as {@link DatasetSample}s. Rows are recognised by schema (GSM8K, MATH/open-r1,
 * chat `messages`, `prompt`/`answer`) or mapped with `promptColumn` / `answerColumn` /
 * `completionColumn`. Every bad row is reported with its line (JSONL) or row (Parquet) number and
 * column in one {@link DatasetError}; nothing is skipped silently. Ids: `id`/`unique_id`, else
 * `<file name>:<row>`.
 *
 * @param path - A `.jsonl` / `.ndjson` or `.parquet` file.
 * @param options - `format` (default: from the extension), `limit` on rows read, and the column mapping (`promptColumn`, `answerColumn`, `completionColumn`) for files whose schema is not recognised.
 *
 * @example
 * ```ts
 * import { loadDataset, writeJsonl } from '@r1-ts/tasks';
 * await writeJsonl('/tmp/gsm8k.jsonl', [{ question: 'Tom has 2 apples and buys 3. How many?', answer: '2+3=5\n#### 5' }]);
 * const [s] = await loadDataset('/tmp/gsm8k.jsonl');
 * console.log(s.task, s.answer); // gsm8k 5
 * ```
 */
export async function loadDataset(path: string, options: LoadDatasetOptions = {}): Promise<DatasetSample[]> {
  checkOptionKeys('loadDataset', options, { format: true, limit: true, promptColumn: true, answerColumn: true, completionColumn: true });
  const format = options.format ?? formatOf(path);
  const schema = datasetRow({ promptColumn: options.promptColumn, answerColumn: options.answerColumn, completionColumn: options.completionColumn });
  let rows: (Omit<DatasetSample, 'id'> & { id?: string })[];
  if (format === 'jsonl') rows = await loadJsonl(path, schema);
  else {
    const problems: DatasetProblem[] = [];
    rows = [];
    const table = await readParquet(path, options);
    table.forEach((raw, i) => {
      const parsed = schema.safeParse(raw);
      if (parsed.success) rows.push(parsed.data);
      else for (const issue of parsed.error.issues) problems.push({ line: i + 1, unit: 'row', field: issue.path.map(String).join('.') || '(row)', message: issue.message });
    });
    if (table.length === 0) problems.push({ line: 0, field: '(file)', message: 'no rows' });
    if (problems.length) throw new DatasetError(path, problems);
  }
  const name = basename(path);
  const out = rows.map((r, i) => ({ ...r, id: r.id ?? `${name}:${i + 1}` }) as DatasetSample);
  return options.limit !== undefined ? out.slice(0, options.limit) : out;
}

function formatOf(path: string): 'jsonl' | 'parquet' {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.parquet') return 'parquet';
  throw new DatasetError(path, [{ line: 0, field: '(file)', message: `unknown dataset format '${ext || '(no extension)'}': expected .jsonl, .ndjson or .parquet (or pass format)` }]);
}

async function readParquet(path: string, options: LoadDatasetOptions): Promise<Record<string, unknown>[]> {
  const fileError = (message: string) => new DatasetError(path, [{ line: 0, field: '(file)', message }]);
  try {
    await stat(path);
  } catch (e) {
    throw fileError(`cannot read: ${(e as Error).message}`);
  }
  try {
    const file = await asyncBufferFromFile(path);
    const metadata = await parquetMetadataAsync(file);
    const rowEnd = options.limit !== undefined ? Math.min(Number(metadata.num_rows), options.limit) : undefined;
    return (await parquetReadObjects({ file, metadata, rowEnd })) as Record<string, unknown>[];
  } catch (e) {
    throw fileError(`not a readable Parquet file: ${(e as Error).message}`);
  }
}
