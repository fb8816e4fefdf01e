// The docs cannot rot: every TSDoc `@example` ```ts block and each README's opening example is
// type-checked in one TypeScript program against the packages' source, and each one without a
// `// no-run` comment is executed.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  apiProgram, baseCompilerOptions, collectExamples, exampleFileName, examplesInSource, exportedSymbolsOf,
  firstTsBlock, isRunnable,
  type Example, type ExportedSymbol,
} from './examples';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const workDir = join(root, '.tmp/doc-examples'); // inside the repo so '@r1-ts/*' resolves through the workspace
const RUN_BUDGET_MS = 150_000;

interface Written { ex: Example; file: string }
let written: Written[] = [];
let symbols: ExportedSymbol[] = [];
let api: ts.Program;

beforeAll(() => {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  api = apiProgram(root);
  symbols = exportedSymbolsOf(api, root);
  written = collectExamples(root, symbols).map((ex, i) => {
    const file = join(workDir, exampleFileName(ex, i));
    // `export {}` makes every example a module, so top-level await works and names don't collide.
    writeFileSync(file, `${ex.code}\n\nexport {};\n`);
    return { ex, file };
  });
});

describe('example extraction', () => {
  it('finds fenced ts blocks under @example only, with their source line', () => {
    const src = [
      '/**',
      ' * Adds.',
      ' * ```ts',
      ' * notAnExample();',
      ' * ```',
      ' * @param a - first',
      ' * @example',
      ' * ```ts',
      ' * const y = add(1, 2);',
      ' *   // indented',
      ' * ```',
      ' * @returns the sum',
      ' */',
      'export function add(a: number, b: number) { return a + b; }',
      '/** @example ```ts',
      ' * one();',
      ' * ```',
      ' */',
    ].join('\n');
    expect(examplesInSource(src)).toEqual([
      { line: 8, code: 'const y = add(1, 2);\n  // indented' },
      { line: 15, code: 'one();' },
    ]);
    expect(isRunnable('f();')).toBe(true);
    expect(isRunnable('f(); // no-run')).toBe(false);
    expect(isRunnable('declare const p: P;\np.f();')).toBe(false);
    expect(firstTsBlock('# x\n\n```sh\nnpm i\n```\n\n```ts\nconst a = 1;\n```\n```ts\nb\n```\n')).toBe('const a = 1;\n');
  });
});

describe('documentation examples', () => {
  it('every exported symbol has an @example', () => {
    expect(symbols.length).toBeGreaterThan(0);
    const missing = symbols.filter((s) => !s.hasExample).map((s) => `@r1-ts/${s.pkg}: ${s.name}`);
    expect(missing, `exports without an @example:\n${missing.join('\n')}`).toEqual([]);
  });

  it('every example type-checks', () => {
    // Only the example files are checked; errors inside package sources are `tsc`'s business.
    const program = ts.createProgram(written.map((w) => w.file), baseCompilerOptions(root), undefined, api);
    const failures: string[] = [];
    for (const { ex, file } of written) {
      const sf = program.getSourceFile(file);
      if (!sf) throw new Error(`not in the program: ${file}`);
      for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]) {
        const { line } = sf.getLineAndCharacterOfPosition(d.start ?? 0);
        failures.push(`${ex.id} (example line ${line + 1}): ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
      }
    }
    expect(failures, `examples that do not compile:\n${failures.join('\n')}`).toEqual([]);
  });

  it('every runnable example runs', async () => {
    const runnable = written.filter((w) => w.ex.runnable);
    if (runnable.length === 0) return;
    const resultsPath = join(workDir, 'results.json');
    // Repo-relative paths to fixtures (`test/fixtures/golden/...`) still resolve there.
    const scratch = join(workDir, 'cwd');
    mkdirSync(scratch, { recursive: true });
    symlinkSync(join(root, 'test'), join(scratch, 'test'), 'dir');
    const tsx = join(root, 'node_modules/.bin/tsx');
    const runner = join(root, 'docs/test/run-examples.ts');
    try {
      // A scratch working directory: examples that write files (checkpoints, JSONL) must not litter the repo.
      await promisify(execFile)(tsx, ['--conditions=@r1-ts/source', runner, resultsPath, ...runnable.map((w) => w.file)], {
        cwd: scratch, timeout: RUN_BUDGET_MS, maxBuffer: 64 * 1024 * 1024,
      });
    } catch {
      // A crash or the overall timeout: results.json still names what finished and what did not.
    }
    let results: { file: string; ok: boolean; ms: number; error?: string }[] = [];
    try { results = JSON.parse(readFileSync(resultsPath, 'utf8')); } catch { /* nothing ran */ }
    const done = new Map(results.map((r) => [r.file, r]));
    const failures = runnable.flatMap((w) => {
      const r = done.get(w.file);
      if (!r) return [`${w.ex.id}: not reached within ${RUN_BUDGET_MS / 1000} s`];
      return r.ok ? [] : [`${w.ex.id}: ${r.error} (${relative(root, w.file)})`];
    });
    expect(failures, `examples that fail at run time:\n${failures.join('\n')}`).toEqual([]);
  }, RUN_BUDGET_MS + 30_000);
});
