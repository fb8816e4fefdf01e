import * as tf from '@tensorflow/tfjs';
import type { TokenBatch } from './batch';
import { parseConfig } from './config';
import { DeepSeekModel } from './model';
import { AdamW, clipGradNorm, valueAndNamedGrads } from './optim';

/**
 * The lightning indexer's sizes (V3.2 config field names).
 *
 * @example
 * ```ts
 * import { DeepSeekModel, convertToDsa, presets, type IndexerSizes } from '@r1-ts/model';
 * const sizes: IndexerSizes = { index_n_heads: 2, index_head_dim: 16, index_topk: 8 }; // each query attends to ≤ 8 keys
 * const sparse = convertToDsa(new DeepSeekModel(presets.tiny), sizes);
 * ```
 */
export interface IndexerSizes {
  index_n_heads: number;
  index_head_dim: number;
  index_topk: number;
}

const isIndexer = (name: string) => name.includes('.self_attn.indexer.');

/**
 * The dense → sparse conversion of V3.2-Exp's continued training, step 0: a DSA model with the dense
 * model's weights and freshly initialised lightning indexers (`seed`).
 *
 * @param dense - A dense (MLA) DeepSeek model; its weights are copied, it is not changed.
 * @param sizes - Indexer sizes: `index_n_heads`, `index_head_dim` and `index_topk` (keys kept per query).
 * @param seed - Seed of the new indexers' initial weights. Default 0.
 *
 * @example
 * ```ts
 * import { DeepSeekModel, convertToDsa, presets } from '@r1-ts/model';
 * const dense = new DeepSeekModel(presets.tiny);
 * const sparse = convertToDsa(dense, { index_n_heads: 2, index_head_dim: 16, index_topk: 8 });
 * console.log(sparse.config.index_topk); // 8
 * ```
 */
export function convertToDsa(dense: DeepSeekModel, sizes: IndexerSizes, seed = 0): DeepSeekModel {
  const model = new DeepSeekModel(parseConfig({ ...dense.config, ...sizes }), { seed });
  model.loadState(dense.namedParameters(), { allowMissing: isIndexer });
  return model;
}

/**
 * The indexer parameters of a DSA model (what the dense warm-up trains).
 *
 * @param model - A DSA model (config with `index_topk` set).
 *
 * @example
 * ```ts
 * import { DeepSeekModel, indexerParameters, presets, withAttention } from '@r1-ts/model';
 * const m = new DeepSeekModel(withAttention(presets.tiny, 'dsa', { index_n_heads: 2, index_head_dim: 16, index_topk: 8 }));
 * console.log([...indexerParameters(m).keys()][0]); // 'model.layers.0.self_attn.indexer.wq_b.weight'
 * ```
 */
export function indexerParameters(model: DeepSeekModel): Map<string, tf.Variable> {
  return new Map([...model.namedParameters()].filter(([name]) => isIndexer(name)));
}

/**
 * One step of the dense warm-up (V3.2-Exp §2.1, stage 1): the model is frozen and runs dense
 * attention; only the indexers learn, minimising KL(head-mean dense attention ‖ softmax(index
 * scores)) summed over layers. `optimizer` must be built over {@link indexerParameters}.
 *
 * @param model - The DSA model; its non-indexer weights are left unchanged.
 * @param optimizer - AdamW built over {@link indexerParameters} of the model.
 * @param batch - A token batch (tokens [B, S], loss mask [B, S]).
 * @param clipNorm - Global gradient norm limit of the indexer gradients. Default 1.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { AdamW, DeepSeekModel, indexerParameters, indexerWarmupStep, presets, withAttention } from '@r1-ts/model';
 * const m = new DeepSeekModel(withAttention(presets.tiny, 'dsa', { index_n_heads: 2, index_head_dim: 16, index_topk: 4 }));
 * const opt = new AdamW(indexerParameters(m), { lr: 1e-3, weightDecay: 0 });
 * const tokens = tf.tensor2d([[1, 2, 3, 4, 5, 6]], [1, 6], 'int32');
 * const { loss } = indexerWarmupStep(m, opt, { tokens, lossMask: tf.ones([1, 6]), lengths: [6] });
 * ```
 */
export function indexerWarmupStep(model: DeepSeekModel, optimizer: AdamW, batch: TokenBatch, clipNorm = 1): { loss: number; gradNorm: number } {
  const params = indexerParameters(model);
  const { loss, grads } = valueAndNamedGrads(() => {
    const { indexerLoss } = model.forward(batch.tokens, { indexerLoss: 'dense' });
    if (!indexerLoss) throw new Error('indexerWarmupStep needs a DSA model (config.index_topk set)');
    return indexerLoss;
  }, params);
  const gradNorm = clipGradNorm(grads, clipNorm);
  if (Number.isFinite(loss) && Number.isFinite(gradNorm)) optimizer.step(grads);
  else for (const g of grads.values()) g.dispose();
  return { loss, gradNorm };
}
