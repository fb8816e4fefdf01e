// Child-process probe for webgpu.test.ts: asks for the webgpu backend, runs a matmul and a
// synchronous read, and returns without process.exit (the test checks that Node then exits
// promptly). A missing adapter prints the error and exits with code 3.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './init';

try {
  const info = await initBackend({ backend: 'webgpu', quiet: true });
  const c = tf.matMul(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), tf.tensor2d([1, 0, 0, 1, 1, 1], [3, 2])); // [2, 2]
  console.log(JSON.stringify({ name: info.name, software: info.adapter?.software, values: Array.from(c.dataSync()) }));
} catch (e) {
  console.log(JSON.stringify({ error: (e as Error).name, message: (e as Error).message }));
  process.exitCode = 3;
}
console.log('finished');
