import * as tf from '@tensorflow/tfjs';
import { CheckpointError, readSafetensors, toTensor } from '@r1-ts/tensor-kernels';
import type { StoredTensor } from '@r1-ts/tensor-kernels';

/** The golden cases (golden/README.md §1). */
export type GoldenCaseName = 'kernels' | 'mla' | 'moe' | 'dsa' | 'model' | 'grpo' | 'dense';

/** A loaded golden fixture: metadata decoded, tensors by full name (`param.…`, `input.…`, `output.…`, `grad.…`). */
export interface Fixture {
  path: string;
  case: string;
  /** Hugging Face-named config (null for grpo). */
  config: Record<string, any> | null;
  extra: Record<string, any>;
  rtol: number;
  tensors: Map<string, StoredTensor>;
  /** The stored tensor, or a CheckpointError naming the missing one. */
  get(name: string): StoredTensor;
  /** The stored tensor as a tfjs tensor (caller disposes). */
  tensor(name: string): tf.Tensor;
  /** Names with a prefix, prefix stripped (e.g. params('param.') → `self_attn.q_a_proj.weight`, …). */
  names(prefix: string): string[];
}

/** Reads any golden-v1 fixture. */
export function loadFixture(path: string): Fixture {
  const file = readSafetensors(path);
  const meta = file.metadata;
  if (!meta.case) throw new CheckpointError(`${path}: __metadata__.case is missing; not a golden fixture`);
  const parse = (key: string) => {
    try {
      return JSON.parse(meta[key] ?? 'null');
    } catch {
      throw new CheckpointError(`${path}: __metadata__.${key} is not valid JSON`);
    }
  };
  const get = (name: string): StoredTensor => {
    const t = file.tensors.get(name);
    if (!t) throw new CheckpointError(`${path}: tensor "${name}" is missing`);
    return t;
  };
  return {
    path,
    case: meta.case,
    config: parse('config'),
    extra: parse('extra') ?? {},
    rtol: Number(meta.rtol ?? '1e-4'),
    tensors: file.tensors,
    get,
    tensor: (name) => toTensor(get(name)),
    names: (prefix) => [...file.tensors.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)),
  };
}

/** What a case implementation returns: expected-name → computed values. */
export type CaseOutputs = Map<string, Float32Array | Int32Array | number[]>;

/** A case implementation: computes every `output.*` and `grad.*` tensor the fixture holds. */
export type GoldenCaseRunner = (fx: Fixture) => CaseOutputs | Promise<CaseOutputs>;

/** Reads a tensor's values and disposes it. */
export function take(t: tf.Tensor): Float32Array | Int32Array {
  const v = t.dataSync() as Float32Array | Int32Array;
  t.dispose();
  return v;
}
