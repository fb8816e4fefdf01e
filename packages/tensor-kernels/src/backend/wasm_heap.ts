// tfjs-backend-wasm 4.22 allocates every tensor with `_malloc(bytes) >>> 0` and does not check the
// result. When the heap cannot grow further (wasm32: 4 GiB) malloc returns 0 and the tensor is placed
// at address 0, over the module's static data, malloc's own lock among it: the next allocation then
// spins on that lock for ever (seen as a training step that never ends at 100% of one core). The
// guard below turns that return into an OutOfMemoryError before anything is written there.
import { OutOfMemoryError } from '../errors';

interface WasmModuleLike {
  _malloc(bytes: number): number;
  _free?(at: number): void;
  HEAPU8: Uint8Array;
}
interface GuardedBackend {
  wasm: WasmModuleLike;
}

const guarded = new WeakSet<WasmModuleLike>();

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * Makes the wasm backend's allocator throw an {@link OutOfMemoryError} instead of handing out
 * address 0 when the heap is exhausted. Idempotent per backend instance.
 *
 * @param backend - The live tfjs-backend-wasm instance (`tf.backend()` while wasm is active).
 */
export function guardWasmHeap(backend: unknown): void {
  const module = (backend as GuardedBackend | null)?.wasm;
  if (!module || typeof module._malloc !== 'function' || guarded.has(module)) return;
  guarded.add(module);
  // Emscripten's first `_malloc` call replaces `Module._malloc` with the raw export (dropping any
  // wrapper set before it): make that call now, then wrap what it left.
  if (typeof module._free === 'function') module._free(module._malloc(1));
  const malloc = module._malloc;
  module._malloc = (bytes: number) => {
    const at = malloc(bytes);
    if (at === 0 && bytes > 0) {
      const heap = module.HEAPU8.buffer.byteLength;
      throw new OutOfMemoryError(
        `wasm heap exhausted: cannot allocate ${mb(bytes)} for a tensor (the heap is ${mb(heap)}; the wasm backend keeps every tensor in one heap of at most 4 GiB). ` +
          'Use less memory per step (gradient_checkpointing: true, a smaller batch or sequence length) or a native backend (@tensorflow/tfjs-node).',
      );
    }
    return at;
  };
}
