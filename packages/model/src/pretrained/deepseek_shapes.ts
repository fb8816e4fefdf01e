import type { DeepSeekConfig } from '../config';

/**
 * The name → shape of every parameter a {@link DeepSeekModel} of this config declares, computed
 * from the config alone (no allocation), so a checkpoint's headers can be checked and its memory
 * estimated before the model is built. Kept equal to `namedParameters()` by a test.
 *
 * @param c - A validated DeepSeek config.
 *
 * @example
 * ```ts
 * import { deepSeekTensorShapes, parseConfig, presets } from '@r1-ts/model';
 * const shapes = deepSeekTensorShapes(parseConfig(presets.tiny));
 * console.log(shapes.get('lm_head.weight')); // [64, 64]
 * ```
 */
export function deepSeekTensorShapes(c: DeepSeekConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const D = c.hidden_size;
  const H = c.num_attention_heads;
  const { q_lora_rank: R, kv_lora_rank: C, qk_nope_head_dim: dn, qk_rope_head_dim: dr, v_head_dim: dv } = c;
  const swiglu = (p: string, I: number) => {
    out.set(`${p}.gate_proj.weight`, [I, D]);
    out.set(`${p}.up_proj.weight`, [I, D]);
    out.set(`${p}.down_proj.weight`, [D, I]);
  };
  const block = (p: string, dense: boolean) => {
    out.set(`${p}.input_layernorm.weight`, [D]);
    const a = `${p}.self_attn`;
    if (R === null) out.set(`${a}.q_proj.weight`, [H * (dn + dr), D]);
    else {
      out.set(`${a}.q_a_proj.weight`, [R, D]);
      out.set(`${a}.q_a_layernorm.weight`, [R]);
      out.set(`${a}.q_b_proj.weight`, [H * (dn + dr), R]);
    }
    out.set(`${a}.kv_a_proj_with_mqa.weight`, [C + dr, D]);
    out.set(`${a}.kv_a_layernorm.weight`, [C]);
    out.set(`${a}.kv_b_proj.weight`, [H * (dn + dv), C]);
    out.set(`${a}.o_proj.weight`, [D, H * dv]);
    if (c.index_topk !== null) {
      const Hi = c.index_n_heads!;
      const Di = c.index_head_dim!;
      out.set(`${a}.indexer.wq_b.weight`, [Hi * Di, R!]);
      out.set(`${a}.indexer.wk.weight`, [Di, D]);
      out.set(`${a}.indexer.k_norm.weight`, [Di]);
      out.set(`${a}.indexer.k_norm.bias`, [Di]);
      out.set(`${a}.indexer.weights_proj.weight`, [Hi, D]);
    }
    out.set(`${p}.post_attention_layernorm.weight`, [D]);
    if (dense) swiglu(`${p}.mlp`, c.intermediate_size);
    else {
      const E = c.n_routed_experts;
      out.set(`${p}.mlp.gate.weight`, [E, D]);
      if (c.topk_method === 'noaux_tc') out.set(`${p}.mlp.gate.e_score_correction_bias`, [E]);
      for (let e = 0; e < E; e++) swiglu(`${p}.mlp.experts.${e}`, c.moe_intermediate_size);
      if (c.n_shared_experts > 0) swiglu(`${p}.mlp.shared_experts`, c.n_shared_experts * c.moe_intermediate_size);
    }
  };
  out.set('model.embed_tokens.weight', [c.vocab_size, D]);
  for (let i = 0; i < c.num_hidden_layers; i++) block(`model.layers.${i}`, i < c.first_k_dense_replace);
  if (c.num_nextn_predict_layers) {
    const p = `model.layers.${c.num_hidden_layers}`;
    block(p, false);
    out.set(`${p}.enorm.weight`, [D]);
    out.set(`${p}.hnorm.weight`, [D]);
    out.set(`${p}.eh_proj.weight`, [D, 2 * D]);
    out.set(`${p}.shared_head.norm.weight`, [D]);
    out.set(`${p}.shared_head.head.weight`, [c.vocab_size, D]);
  }
  out.set('model.norm.weight', [D]);
  out.set('lm_head.weight', [c.vocab_size, D]);
  return out;
}
