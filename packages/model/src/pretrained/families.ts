import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@r1-ts/tensor-kernels';
import { parseConfig } from '../config';
import type { DeepSeekConfig } from '../config';
import type { CausalLM } from '../causal_lm';
import { DeepSeekModel } from '../model';
import { denseParts, parseDenseConfig } from '../dense/config';
import type { DenseConfig } from '../dense/config';
import { DenseModel } from '../dense/model';
import { deepSeekTensorShapes } from './deepseek_shapes';

/**
 * The `model_type`s {@link loadPretrained} reads, with the Hugging Face class each one is.
 *
 * @example
 * ```ts
 * import { SUPPORTED_MODEL_TYPES } from '@r1-ts/model';
 * console.log(Object.keys(SUPPORTED_MODEL_TYPES)); // ['llama', 'qwen2', 'qwen3', 'deepseek_v2', 'deepseek_v3', 'deepseek_v32']
 * ```
 */
export const SUPPORTED_MODEL_TYPES = {
  llama: 'LlamaForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  qwen3: 'Qwen3ForCausalLM',
  deepseek_v2: 'DeepseekV2ForCausalLM',
  deepseek_v3: 'DeepseekV3ForCausalLM',
  deepseek_v32: 'DeepseekV32ForCausalLM',
} as const;

/**
 * A model family resolved from one config.json: the validated config, the name → shape of every
 * tensor the model holds (from the config alone, nothing allocated), the rule that skips the
 * checkpoint tensors it does not use, and how to build the (empty) model.
 *
 * @example
 * ```ts
 * import { resolveFamily } from '@r1-ts/model';
 * const f = resolveFamily({ model_type: 'qwen2', vocab_size: 32, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1,
 *   num_attention_heads: 4, max_position_embeddings: 64, rms_norm_eps: 1e-6, tie_word_embeddings: true });
 * console.log(f.shapes.has('lm_head.weight'), f.skip('lm_head.weight')); // false 'tied to model.embed_tokens.weight'
 * ```
 */
export interface ResolvedFamily {
  modelType: keyof typeof SUPPORTED_MODEL_TYPES;
  config: DenseConfig | DeepSeekConfig;
  /** Every parameter of the model, under its checkpoint name. */
  shapes: Map<string, number[]>;
  /** Why a checkpoint tensor the model does not hold is skipped, or null when it is unexpected. */
  skip(name: string): string | null;
  /** The model with each parameter's values from `read` (by checkpoint name), one tensor at a time. */
  build(read: (name: string) => Float32Array): CausalLM;
}

const ropeBuffer = /\.rotary_emb\.inv_freq$/;

/**
 * Picks the family by `config.json`'s `model_type` and validates the config; an unknown type is one
 * {@link ConfigError} listing the supported ones.
 *
 * @param raw - The parsed `config.json` object.
 * @param source - File named in error messages. Default `config.json`.
 *
 * @example
 * ```ts
 * import { resolveFamily } from '@r1-ts/model';
 * try {
 *   resolveFamily({ model_type: 'mistral' });
 * } catch (e) {
 *   console.log((e as Error).message); // ... supported model types: llama, qwen2, qwen3, deepseek_v2, deepseek_v3, deepseek_v32
 * }
 * ```
 */
export function resolveFamily(raw: Record<string, unknown>, source = 'config.json'): ResolvedFamily {
  const type = raw.model_type;
  if (typeof type !== 'string' || !(type in SUPPORTED_MODEL_TYPES)) {
    throw new ConfigError(
      `${source}: model_type ${JSON.stringify(type)} is not supported; supported model types: ${Object.keys(SUPPORTED_MODEL_TYPES).join(', ')}`,
      ['model_type'],
    );
  }
  const modelType = type as keyof typeof SUPPORTED_MODEL_TYPES;
  if (modelType === 'llama' || modelType === 'qwen2' || modelType === 'qwen3') return denseFamily(parseDenseConfig(raw, source));
  return deepSeekFamily(modelType, raw, source);
}

function denseFamily(c: DenseConfig): ResolvedFamily {
  return {
    modelType: c.model_type,
    config: c,
    shapes: denseTensorShapes(c),
    skip: (name) => {
      if (ropeBuffer.test(name)) return 'RoPE buffer, recomputed from the config';
      if (name === 'lm_head.weight' && c.tie_word_embeddings) return 'tied to model.embed_tokens.weight';
      return null;
    },
    build: (read) => new DenseModel(c, { weights: read }), // built straight from the stored values
  };
}

/**
 * The name → shape of every parameter of a dense model (llama / qwen2 / qwen3), from its config.
 *
 * @param c - A validated dense config.
 *
 * @example
 * ```ts
 * import { denseTensorShapes, parseDenseConfig } from '@r1-ts/model';
 * const c = parseDenseConfig({ model_type: 'qwen3', vocab_size: 32, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1,
 *   num_attention_heads: 2, head_dim: 12, max_position_embeddings: 64, rms_norm_eps: 1e-6 });
 * console.log(denseTensorShapes(c).get('model.layers.0.self_attn.q_proj.weight')); // [24, 16]
 * ```
 */
export function denseTensorShapes(c: DenseConfig): Map<string, number[]> {
  const parts = denseParts(c);
  const { hidden_size: D, intermediate_size: I, num_attention_heads: H, num_key_value_heads: Hkv, head_dim: hd } = c;
  const out = new Map<string, number[]>([['model.embed_tokens.weight', [c.vocab_size, D]]]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    out.set(`${p}.input_layernorm.weight`, [D]);
    const proj = (n: string, o: number, inp: number, bias: boolean) => {
      out.set(`${p}.${n}.weight`, [o, inp]);
      if (bias) out.set(`${p}.${n}.bias`, [o]);
    };
    proj('self_attn.q_proj', H * hd, D, parts.qkvBias);
    proj('self_attn.k_proj', Hkv * hd, D, parts.qkvBias);
    proj('self_attn.v_proj', Hkv * hd, D, parts.qkvBias);
    proj('self_attn.o_proj', D, H * hd, parts.oBias);
    if (parts.qkNorm) {
      out.set(`${p}.self_attn.q_norm.weight`, [hd]);
      out.set(`${p}.self_attn.k_norm.weight`, [hd]);
    }
    out.set(`${p}.post_attention_layernorm.weight`, [D]);
    proj('mlp.gate_proj', I, D, parts.mlpBias);
    proj('mlp.up_proj', I, D, parts.mlpBias);
    proj('mlp.down_proj', D, I, parts.mlpBias);
  }
  out.set('model.norm.weight', [D]);
  if (!c.tie_word_embeddings) out.set('lm_head.weight', [c.vocab_size, D]);
  return out;
}

function deepSeekFamily(modelType: 'deepseek_v2' | 'deepseek_v3' | 'deepseek_v32', raw: Record<string, unknown>, source: string): ResolvedFamily {
  const input: Record<string, unknown> = { ...raw };
  // V2 (V2-Lite) has no MTP; its configs carry no num_nextn_predict_layers.
  if (modelType === 'deepseek_v2' && input.num_nextn_predict_layers === undefined) input.num_nextn_predict_layers = 0;
  const s = input.rope_scaling as Record<string, unknown> | null | undefined;
  if (s && typeof s === 'object' && 'rope_type' in s) {
    const { rope_type, ...rest } = s; // transformers' spelling of DeepSeek's `type`
    input.rope_scaling = { ...rest, type: rest.type ?? rope_type };
  }
  const c = parseConfig(input, source);
  if (modelType === 'deepseek_v32' && c.index_topk === null) {
    throw new ConfigError(`${source}: deepseek_v32 needs index_n_heads, index_head_dim and index_topk (DSA)`, ['index_topk']);
  }
  const mtp = `model.layers.${c.num_hidden_layers}.`;
  return {
    modelType,
    config: c,
    shapes: deepSeekTensorShapes(c),
    skip: (name) => {
      if (ropeBuffer.test(name)) return 'RoPE buffer, recomputed from the config';
      if (name.startsWith(mtp)) {
        if (!c.num_nextn_predict_layers) return 'MTP layer, unused with num_nextn_predict_layers = 0';
        if (name === `${mtp}embed_tokens.weight`) return "MTP layer's copy of model.embed_tokens.weight";
      }
      return null;
    },
    build: (read) => {
      const model = new DeepSeekModel(c, { seed: 0 });
      try {
        for (const [name, v] of model.namedParameters()) {
          const t = tf.tensor(read(name), v.shape, 'float32');
          v.assign(t);
          t.dispose();
        }
      } catch (e) {
        model.dispose();
        throw e;
      }
      return model;
    },
  };
}

/**
 * The family of a built model: for saving its config.json.
 *
 * @param model - A built model of any supported family.
 *
 * @example
 * ```ts
 * import { DenseModel, configJsonOf } from '@r1-ts/model';
 * const m = new DenseModel({ model_type: 'llama', vocab_size: 32, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1,
 *   num_attention_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1e-5 });
 * console.log(configJsonOf(m).architectures); // ['LlamaForCausalLM']
 * ```
 */
export function configJsonOf(model: CausalLM): Record<string, unknown> {
  const type = model.modelType as keyof typeof SUPPORTED_MODEL_TYPES;
  const arch = SUPPORTED_MODEL_TYPES[type];
  if (!arch) throw new ConfigError(`model_type ${JSON.stringify(type)} has no Hugging Face class`, ['model_type']);
  const c = { ...(model.config as Record<string, unknown>) };
  if (type.startsWith('deepseek') && c.rope_scaling && typeof c.rope_scaling === 'object') {
    c.rope_scaling = { ...(c.rope_scaling as object), rope_type: 'yarn' }; // transformers reads rope_type, DeepSeek's code type
  }
  return { architectures: [arch], ...c, model_type: type };
}
