import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OutOfMemoryError } from '../errors';
import { guardWasmHeap } from './wasm_heap';

describe('the wasm heap guard', () => {
  it('turns a null allocation into an OutOfMemoryError and passes others through', () => {
    const sizes: number[] = [];
    const fake = { wasm: { _malloc: (n: number) => (sizes.push(n), n > 100 ? 0 : 64), _free: () => {}, HEAPU8: new Uint8Array(16) } };
    guardWasmHeap(fake);
    expect(fake.wasm._malloc(8)).toBe(64);
    expect(() => fake.wasm._malloc(1e9)).toThrow(OutOfMemoryError);
    expect(() => fake.wasm._malloc(1e9)).toThrow(/wasm heap exhausted: cannot allocate 1000\.0 MB for a tensor \(the heap is 0\.0 MB/);
    guardWasmHeap(fake); // idempotent: not wrapped twice
    expect(fake.wasm._malloc(0)).toBe(64);
    expect(sizes).toEqual([1, 8, 1e9, 1e9, 0]); // 1: the warm-up call that lets emscripten swap in its raw export
  });

  // Before the guard, filling the 4 GiB heap placed a tensor at address 0, over malloc's lock, and
  // the next allocation spun for ever: the child runs with a timeout so that shows as a failure.
  it('on the real wasm backend: filling the 4 GiB heap throws OutOfMemoryError, and the backend keeps working after', () => {
    const child = fileURLToPath(new URL('./testing/fill_wasm_heap.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@r1-ts/source', child], { encoding: 'utf8', timeout: 120_000 });
    expect(r.signal, `child did not finish (hang?): ${r.stderr}`).toBeNull();
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { allocated: number; name: string; code: string; message: string; sum: number };
    expect(out.name).toBe('OutOfMemoryError');
    expect(out.code).toBe('E_OOM');
    expect(out.message).toMatch(/cannot allocate 536\.9 MB .*gradient_checkpointing/);
    expect(out.allocated).toBeGreaterThanOrEqual(5); // ≥ 2.5 GiB went in before the 4 GiB ceiling
    expect(out.allocated).toBeLessThan(8);
    expect(out.sum).toBe(2 * 1024 * 1024);
  }, 150_000);
});
