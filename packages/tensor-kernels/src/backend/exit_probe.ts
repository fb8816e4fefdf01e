// Child-process probe for init.test.ts: builds the threaded wasm backend, runs a matmul, then
// (unless run with `no-dispose`) disposes the backend, and returns without process.exit; the test
// checks that Node then exits promptly.
import * as tf from '@tensorflow/tfjs';
import { disposeBackend, initBackend } from './init';

const info = await initBackend({ backend: 'wasm', threads: 2, quiet: true });
const c = tf.matMul(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), tf.tensor2d([1, 0, 0, 1, 1, 1], [3, 2])); // [2, 2]
console.log(JSON.stringify({ threads: info.threads, name: info.name, values: Array.from(await c.data()) }));
if (process.argv[2] !== 'no-dispose') await disposeBackend();
console.log('finished');
