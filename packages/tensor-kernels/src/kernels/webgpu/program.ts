// Shared shape of r1-ts's WGSL programs for tfjs's WebGPU backend. tfjs prepends to getUserCode() the
// storage bindings (`result` for the output, one array per name in variableNames, `uniforms`) and
// calls the user's `fn main(index : i32)` once per invocation; the program object says how many
// invocations to launch. Two kinds are enough for the fused kernels: one invocation per output
// element, and one 64-lane workgroup per row with workgroup-shared reductions.
import type { DataType, TensorInfo } from '@tensorflow/tfjs';

/** tfjs-backend-webgpu's WebGPUProgram (the fields its runWebGPUProgram reads). */
export interface WgslProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size?: boolean;
  uniforms?: string;
  getUserCode(): string;
}

/** A uniform value as runWebGPUProgram takes it. */
export interface Uniform {
  type: 'float32' | 'int32';
  data: number[];
}

/** The part of tfjs's WebGPUBackend a kernel calls. */
export interface WebGPURunner {
  runWebGPUProgram(program: WgslProgram, inputs: TensorInfo[], outputDtype: DataType, uniforms?: Uniform[]): TensorInfo;
  disposeData(dataId: object): boolean;
}

/** Lanes per workgroup of a row program (a power of two: the reductions halve it). */
export const WG = 64;

const flatLayout = (rank: number) => ({ x: Array.from({ length: Math.max(rank, 1) }, (_, i) => i) });
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * One invocation per output element: `body` sees `index` (the flat output index) and must call
 * setOutputAtIndex(index, value). tfjs adds `size` to the uniforms and the guard is the body's job.
 */
export function elementwiseProgram(key: string, variableNames: string[], outputShape: number[], uniforms: string, body: string): WgslProgram {
  const workgroupSize: [number, number, number] = [WG, 1, 1];
  return {
    variableNames,
    outputShape,
    shaderKey: key,
    dispatchLayout: flatLayout(outputShape.length),
    dispatch: [Math.ceil(size(outputShape) / WG), 1, 1],
    workgroupSize,
    size: true,
    uniforms,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
        }
      }`,
  };
}

/**
 * WGSL reductions over the 64 lanes of a workgroup. Every lane must call them (they hold
 * barriers), so row programs never return early: lanes of a padding workgroup compute on row 0
 * and skip their writes.
 */
const REDUCTIONS = `
  var<workgroup> red : array<f32, ${WG}>;
  fn wgSum(v : f32, lane : i32) -> f32 {
    red[lane] = v;
    workgroupBarrier();
    for (var s = ${WG / 2}; s > 0; s = s / 2) {
      if (lane < s) { red[lane] = red[lane] + red[lane + s]; }
      workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();
    return total;
  }
  fn wgMax(v : f32, lane : i32) -> f32 {
    red[lane] = v;
    workgroupBarrier();
    for (var s = ${WG / 2}; s > 0; s = s / 2) {
      if (lane < s) { red[lane] = max(red[lane], red[lane + s]); }
      workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();
    return total;
  }`;

/**
 * One workgroup of {@link WG} lanes per row, `rows` rows: `body` sees `row` (clamped to a real
 * row), `lane`, `valid` (false on padding workgroups: write nothing) and wgSum/wgMax. The
 * uniforms must include `rows : i32`.
 */
export function rowProgram(key: string, variableNames: string[], outputShape: number[], rows: number, uniforms: string, body: string): WgslProgram {
  return {
    variableNames,
    outputShape,
    shaderKey: key,
    dispatchLayout: flatLayout(outputShape.length),
    dispatch: [rows, 1, 1],
    workgroupSize: [WG, 1, 1],
    uniforms,
    getUserCode: () => `
      ${REDUCTIONS}
      fn main(index : i32) {
        let lane = i32(localIndex);
        let valid = index / ${WG} < uniforms.rows;
        let row = select(0, index / ${WG}, valid);
        ${body}
      }`,
  };
}

/** Runs a program on the backend (tfjs's runWebGPUProgram), float32 output unless said. */
export function run(backend: WebGPURunner, program: WgslProgram, inputs: TensorInfo[], uniforms: Uniform[] = [], dtype: DataType = 'float32'): TensorInfo {
  return backend.runWebGPUProgram(program, inputs, dtype, uniforms);
}

/** Shorthands for uniforms. */
export const i32 = (v: number): Uniform => ({ type: 'int32', data: [v] });
export const f32 = (v: number): Uniform => ({ type: 'float32', data: [v] });
