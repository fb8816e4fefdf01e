import * as tf from '@tensorflow/tfjs';
import {
  applyRope, layerNorm, maskedCrossEntropy, rmsNorm, ropeCosSin, swiglu, tokenLogProbs,
} from '@r1-ts/tensor-kernels';
import type { RopeConfig } from '@r1-ts/tensor-kernels';
import { take } from '../fixture';
import type { CaseOutputs, Fixture } from '../fixture';

/**
 * Golden case `kernels` (golden/README.md §5 kernels): every fused op's output and its gradients
 * of Σ y ⊙ dy.
 */
export function run(fx: Fixture): CaseOutputs {
  const out: CaseOutputs = new Map();
  const cfg = fx.config as RopeConfig & { rms_norm_eps: number };
  const t = (name: string) => fx.tensor(name);
  const eps = cfg.rms_norm_eps;
  const lnEps = fx.extra.layernorm_eps ?? 1e-6;

  // Gradient of Σ f(args) ⊙ dy with respect to every arg.
  const vjp = (f: (...a: tf.Tensor[]) => tf.Tensor, args: tf.Tensor[], dy: tf.Tensor) => {
    const { value, grads } = tf.valueAndGrads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), dy)))(args);
    value.dispose();
    return grads;
  };

  tf.tidy(() => {
    const x = t('input.rmsnorm.x');
    const w = t('param.rmsnorm.weight');
    out.set('output.rmsnorm.y', take(rmsNorm(x, w, eps)));
    const [gx, gw] = vjp((a, b) => rmsNorm(a, b, eps), [x, w], t('input.rmsnorm.dy'));
    out.set('grad.rmsnorm.x', take(gx));
    out.set('grad.rmsnorm.weight', take(gw));
  });

  tf.tidy(() => {
    const P = cfg.max_position_embeddings;
    const { cos, sin } = ropeCosSin(cfg, Array.from({ length: P }, (_, p) => p));
    out.set('output.rope_cos', take(cos));
    out.set('output.rope_sin', take(sin));
    for (const [layout, key] of [['interleaved', 'rope_interleaved'], ['half', 'rope_half']] as const) {
      const x = t(`input.${key}.x`);
      const S = x.shape[1] as number;
      const start = fx.extra.rope_start_pos ?? 0;
      const tables = ropeCosSin(cfg, Array.from({ length: S }, (_, s) => start + s));
      const f = (a: tf.Tensor) => applyRope(a, tables.cos, tables.sin, layout);
      out.set(`output.${key}.y`, take(f(x)));
      out.set(`grad.${key}.x`, take(vjp(f, [x], t(`input.${key}.dy`))[0]));
    }
  });

  tf.tidy(() => {
    const args = ['input.layernorm.x', 'param.layernorm.weight', 'param.layernorm.bias'].map(t);
    const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => layerNorm(x, w, b, lnEps);
    out.set('output.layernorm.y', take(f(args[0], args[1], args[2])));
    const [gx, gw, gb] = vjp(f as (...a: tf.Tensor[]) => tf.Tensor, args, t('input.layernorm.dy'));
    out.set('grad.layernorm.x', take(gx));
    out.set('grad.layernorm.weight', take(gw));
    out.set('grad.layernorm.bias', take(gb));
  });

  tf.tidy(() => {
    const names = ['input.swiglu.x', 'param.swiglu.gate_proj.weight', 'param.swiglu.up_proj.weight', 'param.swiglu.down_proj.weight'];
    const args = names.map(t);
    out.set('output.swiglu.y', take(swiglu(args[0], args[1], args[2], args[3])));
    const grads = vjp((x, g, u, d) => swiglu(x, g, u, d), args, t('input.swiglu.dy'));
    names.forEach((n, i) => out.set(n.replace(/^(input|param)\./, 'grad.'), take(grads[i])));
  });

  tf.tidy(() => {
    const targets = t('input.ce.targets');
    const mask = t('input.ce.mask');
    const { value, grads } = tf.valueAndGrads((l: tf.Tensor) => maskedCrossEntropy(l, targets, mask))([t('input.ce.logits')]);
    out.set('output.ce.loss', take(value));
    out.set('grad.ce.logits', take(grads[0]));
  });

  tf.tidy(() => {
    const logits = t('input.logprob.logits');
    const targets = t('input.logprob.targets');
    out.set('output.logprob.y', take(tokenLogProbs(logits, targets)));
    out.set('grad.logprob.logits', take(vjp((l) => tokenLogProbs(l, targets), [logits], t('input.logprob.dy'))[0]));
  });
  return out;
}
