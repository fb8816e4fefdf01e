// Child process of wasm_heap.test.ts: fills the wasm heap with 512 MiB tensors until allocation
// fails, then checks the backend still computes. Prints one JSON line. Run in its own process so a
// hang (what an unguarded heap did) fails the test by timeout instead of stalling the run.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../init';

await initBackend({ backend: 'wasm', quiet: true });
const held: tf.Tensor[] = [];
let error: unknown = null;
for (let i = 0; i < 12 && !error; i++) {
  try {
    held.push(tf.fill([128, 1024, 1024], i));
  } catch (e) {
    error = e;
  }
}
tf.dispose(held);
const y = tf.tidy(() => tf.sum(tf.add(tf.ones([1024, 1024]), 1)));
const e = error as { name?: string; code?: string; message?: string } | null;
console.log(JSON.stringify({ allocated: held.length, name: e?.name ?? null, code: e?.code ?? null, message: e?.message ?? null, sum: y.dataSync()[0] }));
process.exit(0);
