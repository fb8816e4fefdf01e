// LoRA's API option bags reject unknown keys, naming the key and the one meant; adapter_config.json
// (a PEFT file with many bookkeeping fields) does not.
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@r1-ts/tensor-kernels';
import { describe, expect, it } from 'vitest';
import { LoraModel, loraConfigFromPeft, parseLoraConfig } from './index';

function thrown(f: () => unknown): ConfigError {
  try { f(); } catch (e) { return e as ConfigError; }
  throw new Error('no error thrown');
}

describe('unknown option keys', () => {
  it.each([
    ['parseLoraConfig', () => parseLoraConfig({ r: 4, alpha: 8 } as never), 'alpha', 'lora_alpha'],
    ['parseLoraConfig', () => parseLoraConfig({ r: 4, target_module: ['q_proj'] } as never), 'target_module', 'target_modules'],
    ['LoraModel.attach', () => LoraModel.attach({ namedParameters: () => new Map<string, tf.Variable>() }, { r: 4 }, { sed: 1 } as never), 'sed', 'seed'],
  ] as const)('%s: a ConfigError names %s and suggests %s', (_where, call, bad, meant) => {
    const e = thrown(call);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.fields).toEqual([bad]);
    expect(e.message).toContain(`unknown key "${bad}" (did you mean "${meant}"?)`);
  });

  it('adapter_config.json keeps its bookkeeping fields without error', () => {
    expect(loraConfigFromPeft({ r: 8, task_type: 'CAUSAL_LM', inference_mode: true, revision: null }).r).toBe(8);
  });
});
