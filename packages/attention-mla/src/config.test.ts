import { describe, expect, it } from 'vitest';
import { ConfigError } from '@r1-ts/tensor-kernels';
import { validateMlaConfig } from './config';
import type { MlaConfig } from './config';
import { kvCacheBytesPerToken, mhaKvCacheBytesPerToken } from './cache_bytes';

const ok: MlaConfig = {
  hidden_size: 64, num_attention_heads: 4, q_lora_rank: 32, kv_lora_rank: 32, qk_nope_head_dim: 16, qk_rope_head_dim: 8,
  v_head_dim: 16, rope_theta: 10000, max_position_embeddings: 256, rms_norm_eps: 1e-6,
  rope_scaling: { type: 'yarn', factor: 4, original_max_position_embeddings: 64, beta_fast: 32, beta_slow: 1, mscale: 1, mscale_all_dim: 1 },
};

describe('validateMlaConfig', () => {
  it('accepts valid configs, with and without q_lora_rank / rope_scaling', () => {
    expect(() => validateMlaConfig(ok)).not.toThrow();
    expect(() => validateMlaConfig({ ...ok, q_lora_rank: null, rope_scaling: null })).not.toThrow();
  });

  const bad: [string, Partial<MlaConfig> | Record<string, unknown>, RegExp][] = [
    ['kv_lora_rank', { kv_lora_rank: -3 }, /config\.kv_lora_rank must be a positive integer, got -3/],
    ['hidden_size', { hidden_size: 0 }, /config\.hidden_size must be a positive integer, got 0/],
    ['num_attention_heads', { num_attention_heads: 2.5 }, /num_attention_heads.*2\.5/],
    ['q_lora_rank', { q_lora_rank: -1 }, /config\.q_lora_rank must be a positive integer or null, got -1/],
    ['qk_rope_head_dim', { qk_rope_head_dim: 7 }, /config\.qk_rope_head_dim must be a positive even integer, got 7/],
    ['qk_nope_head_dim', { qk_nope_head_dim: -16 }, /qk_nope_head_dim/],
    ['v_head_dim', { v_head_dim: '16' }, /v_head_dim.*"16"/],
    ['rope_theta', { rope_theta: 0 }, /rope_theta must be a number > 1/],
    ['rms_norm_eps', { rms_norm_eps: -1 }, /rms_norm_eps/],
    ['rope_scaling.type', { rope_scaling: { ...ok.rope_scaling!, type: 'linear' } }, /rope_scaling\.type must be "yarn"/],
    ['rope_scaling.factor', { rope_scaling: { ...ok.rope_scaling!, factor: 0.5 } }, /rope_scaling\.factor must be a number >= 1, got 0\.5/],
  ];
  for (const [field, patch, msg] of bad) {
    it(`rejects a bad ${field} with a ConfigError naming it`, () => {
      let err: unknown;
      try {
        validateMlaConfig({ ...ok, ...patch } as MlaConfig);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(msg);
      expect((err as ConfigError).fields).toEqual([field]);
    });
  }
});

describe('cache sizes', () => {
  it('MLA caches (C + dr)·4 bytes per token; MHA of equal heads H·(dn + dr + dv)·4', () => {
    expect(kvCacheBytesPerToken(ok)).toBe((32 + 8) * 4);
    expect(mhaKvCacheBytesPerToken(ok)).toBe(4 * (16 + 8 + 16) * 4);
    const v3 = { ...ok, hidden_size: 7168, num_attention_heads: 128, kv_lora_rank: 512, qk_nope_head_dim: 128, qk_rope_head_dim: 64, v_head_dim: 128 };
    expect(kvCacheBytesPerToken(v3)).toBe(2304);
    expect(mhaKvCacheBytesPerToken(v3)).toBe(163840);
  });
});
