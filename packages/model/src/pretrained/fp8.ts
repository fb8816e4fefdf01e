import type { StoredTensor } from '@r1-ts/tensor-kernels';

/**
 * DeepSeek-V3's FP8 layout: W[i, j] = fp8[i, j] · scale_inv[⌊i/b0⌋, ⌊j/b1⌋], one float scale per
 * b0×b1 block (128×128; edge blocks may be partial). `values` are the decoded fp8 values [out·in].
 *
 * @param values - The decoded fp8 values, row-major [out·in].
 * @param shape - The weight's shape [out, in].
 * @param scale - The `<name>_scale_inv` tensor [⌈out/b0⌉, ⌈in/b1⌉].
 * @param block - Block size [b0, b1], from the config's `weight_block_size` (DeepSeek-V3: [128, 128]).
 *
 * @example
 * ```ts
 * import { dequantizeBlockFp8 } from '@r1-ts/model';
 * const w = dequantizeBlockFp8(new Float32Array([1, 2, 3, 4]), [2, 2], { dtype: 'F32', shape: [1, 1], data: new Float32Array([0.5]) }, [128, 128]);
 * console.log(Array.from(w)); // [0.5, 1, 1.5, 2]
 * ```
 */
export function dequantizeBlockFp8(values: Float32Array, shape: number[], scale: StoredTensor, block: [number, number]): Float32Array {
  const [rows, cols] = shape;
  const sc = scale.shape[1];
  const s = scale.data;
  const out = values; // in place: the decoded fp8 buffer is this call's own
  for (let i = 0; i < rows; i++) {
    const srow = Math.floor(i / block[0]) * sc;
    for (let j = 0; j < cols; j++) out[i * cols + j] *= s[srow + Math.floor(j / block[1])];
  }
  return out;
}
