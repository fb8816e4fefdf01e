// Activation checkpointing of one decoder layer of either family (transformers'
// `gradient_checkpointing`): the layer's intermediates are recomputed in backward instead of kept.
// The loops of DeepSeekModel and DenseModel call these when `gradientCheckpointing` is on.
import * as tf from '@tensorflow/tfjs';
import { checkpoint } from '@r1-ts/tensor-kernels';
import type { MoeOutput } from '@r1-ts/moe';
import type { GqaContext } from './dense/attention';
import type { DenseDecoderLayer } from './dense/model';
import type { Block, SequenceOptions } from './model';

/**
 * What a checkpointed {@link Block} hands to the model's loop: the routing the losses need.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { Rng } from '@r1-ts/tensor-kernels';
 * import { Block, checkpointedBlock, parseConfig, presets, type CheckpointedBlockOutput } from '@r1-ts/model';
 * const out: CheckpointedBlockOutput = checkpointedBlock(new Block(parseConfig(presets.tiny), 1, new Rng(0)), tf.randomNormal([1, 4, 64]), {});
 * console.log(out.h.shape); // [1, 4, 64]
 * ```
 */
export interface CheckpointedBlockOutput {
  h: tf.Tensor3D;
  moe: Pick<MoeOutput, 'expertLoad' | 'topkIdx' | 'scores'> | null;
  indexerLoss?: tf.Scalar;
}

/**
 * `block.forward(h, opts)` (no cache) as one checkpointed op. Its outputs are h, and, when the
 * block has them, the MoE router scores and selection (the sequence balance loss differentiates
 * the scores) and the DSA indexer loss; the expert loads are plain numbers read in the forward.
 *
 * @param block - A DeepSeek decoder layer.
 * @param h - Hidden states [B, S, D].
 * @param opts - `positions` or `startPos`, `keyMask` [B, S] and `indexerLoss` of the call, as for `block.forward` (no cache).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { Rng } from '@r1-ts/tensor-kernels';
 * import { Block, checkpointedBlock, parseConfig, presets } from '@r1-ts/model';
 * const block = new Block(parseConfig(presets.tiny), 1, new Rng(0));
 * const x = tf.randomNormal([1, 4, 64]);
 * const { grads } = tf.variableGrads(() => tf.sum(checkpointedBlock(block, x, {}).h) as tf.Scalar);
 * console.log(Object.keys(grads).length > 0); // true
 * ```
 */
export function checkpointedBlock(block: Block, h: tf.Tensor, opts: SequenceOptions): CheckpointedBlockOutput {
  // Tensors in opts may be created inside the caller's taped function: pass them as constants so
  // they outlive the forward's scope until the recompute.
  const constants: tf.Tensor[] = [];
  const maskAt = opts.keyMask ? constants.push(opts.keyMask) - 1 : -1;
  const positionsAt = opts.positions instanceof tf.Tensor ? constants.push(opts.positions) - 1 : -1;
  let expertLoad: Int32Array | null = null;
  let hasIndexer = false;
  const outs = checkpoint(([x], c) => {
    const o: SequenceOptions = { ...opts };
    if (maskAt >= 0) o.keyMask = c[maskAt];
    if (positionsAt >= 0) o.positions = c[positionsAt];
    const out = block.forward(x, o);
    expertLoad = out.moe?.expertLoad ?? null;
    hasIndexer = out.indexerLoss !== undefined;
    return [out.h, ...(out.moe ? [out.moe.scores, out.moe.topkIdx] : []), ...(out.indexerLoss ? [out.indexerLoss] : [])];
  }, [h], { constants });
  const load = expertLoad as Int32Array | null;
  return {
    h: outs[0] as tf.Tensor3D,
    moe: load ? { scores: outs[1] as tf.Tensor3D, topkIdx: outs[2] as tf.Tensor3D, expertLoad: load } : null,
    indexerLoss: hasIndexer ? (outs[outs.length - 1] as tf.Scalar) : undefined,
  };
}

/**
 * `layer.forward(h, ctx)` of a dense family (no cache) as one checkpointed op; the RoPE tables and
 * the key mask are its constants.
 *
 * @param layer - A dense-family decoder layer.
 * @param h - Hidden states [B, S, D].
 * @param ctx - RoPE cos/sin tables and key mask of the call (no cache).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { DenseModel, checkpointedDenseLayer, denseRopeTables } from '@r1-ts/model';
 * const model = new DenseModel({ model_type: 'llama', vocab_size: 8, hidden_size: 16, intermediate_size: 8, num_hidden_layers: 1,
 *   num_attention_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1e-5 });
 * const { cos, sin } = denseRopeTables(model.rope, [[0, 1, 2]]);
 * const h = checkpointedDenseLayer(model.layers[0], tf.randomNormal([1, 3, 16]), { cos, sin }); // [1, 3, 16]
 * ```
 */
export function checkpointedDenseLayer(layer: DenseDecoderLayer, h: tf.Tensor, ctx: Omit<GqaContext, 'cache'>): tf.Tensor3D {
  const constants = [ctx.cos, ctx.sin, ...(ctx.keyMask ? [ctx.keyMask] : [])];
  return checkpoint(([x], [cos, sin, keyMask]) => [layer.forward(x, { cos, sin, keyMask })], [h], { constants })[0] as tf.Tensor3D;
}
