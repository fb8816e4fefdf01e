// The API pages' parameter tables must say what each parameter is, not only its type: every parameter
// of an exported function or public constructor carries a described `@param` in the packages below.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { apiProgram } from './examples';
import { undocumentedParams } from './params';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Packages whose parameters are all described; add a package here once its gaps are filled. */
const COVERED = [
  'attention-dsa', 'attention-mla', 'distill', 'grpo', 'gspo', 'lora', 'model', 'moe', 'pipeline', 'rewards', 'tasks', 'tensor-kernels',
];

describe('@param descriptions', () => {
  it('finds undescribed parameters of functions, arrow constants and constructors (and not described ones)', () => {
    const src = [
      '/** Adds.\n * @param a - first\n * @param b -\n */',
      'export function add(a: number, b: number) { return a + b; }',
      '/** Scales.\n * @param x - the value\n */',
      'export const scale = (x: number, k = 2) => x * k;',
      '/** A box. */',
      'export class Box {',
      '  /** @param size - side length */',
      '  constructor(readonly size: number, label: string) {}',
      '}',
      '/** No parameters. */',
      'export function none() { return 1; }',
    ].join('\n');
    const dir = '/virtual';
    const files: Record<string, string> = {
      [`${dir}/packages/demo/src/index.ts`]: src,
    };
    const host = ts.createCompilerHost({});
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, lang) => (files[name] !== undefined ? ts.createSourceFile(name, files[name], lang, true) : getSourceFile(name, lang));
    host.fileExists = (name) => files[name] !== undefined || ts.sys.fileExists(name);
    host.readFile = (name) => files[name] ?? ts.sys.readFile(name);
    const program = ts.createProgram(Object.keys(files), { noEmit: true }, host);
    const found = undocumentedParams(program, dir, ['demo'], () => [{ pkg: 'demo', index: `${dir}/packages/demo/src/index.ts` }]);
    expect(found.map((u) => u.where).sort()).toEqual(['Box.constructor(label)', 'add(b)', 'scale(k)']);
  });

  it(`every exported function and constructor of ${COVERED.join(', ')} describes each parameter`, () => {
    const missing = undocumentedParams(apiProgram(root), root, COVERED).map((u) => `${u.at}  ${u.where}`);
    expect(missing, `parameters without a described @param:\n${missing.join('\n')}`).toEqual([]);
  }, 120_000);
});
