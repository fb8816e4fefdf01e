// A seam fix for tfjs-backend-webgpu 4.22: its TransposeProgram passes an i32 element straight to
// setOutputAtIndex (which takes f32), so transposing a tensor held in an int32 buffer fails WGSL
// validation. Reductions over a non-last axis transpose internally (attention's composite masks
// and the MoE router do), so the fix is applied to the program, not to the Transpose kernel: the
// element is converted explicitly (exact for |v| < 2^24, as tfjs's other int paths).
import type { TensorInfo } from '@tensorflow/tfjs';

interface ProgramLike {
  constructor: { name: string };
  getUserCode(): string;
}

const ELEMENT = /setOutputAtIndex\(flatIndex, (A\[[\s\S]*?uniforms\.aShape\)\])\);/;

/**
 * Rewrites a TransposeProgram reading an int32/bool buffer to convert its element; returns whether
 * it did. `bufferDtype` is the dtype tfjs binds (the buffer's own, which may differ from the tensor's).
 */
export function fixTransposeProgram(program: ProgramLike, inputs: TensorInfo[], bufferDtype: (t: TensorInfo) => string | undefined, outputDtype: string): boolean {
  if (program.constructor.name !== 'TransposeProgram' || inputs.length !== 1) return false;
  const dtype = bufferDtype(inputs[0]);
  if (dtype !== 'int32' && dtype !== 'bool') return false;
  const original = program.getUserCode.bind(program);
  const convert = outputDtype === 'float32' ? 'setOutputAtIndex(flatIndex, f32($1));' : 'setOutputAtIndexI32(flatIndex, i32($1));';
  program.getUserCode = () => original().replace(ELEMENT, convert);
  return true;
}
