import * as tf from '@tensorflow/tfjs';
import { Module, Rng, rmsNorm, writeSafetensors, readSafetensors } from '@r1-ts/tensor-kernels';
import { AdamW, DeepSeekModel, valueAndNamedGrads, clipGradNorm } from '@r1-ts/model';
import type { DeepSeekConfigInput, Tokenizer } from '@r1-ts/model';
import type { PreferencePair } from '@r1-ts/tasks';

/**
 * A preference reward model (R1 §2.3.4's helpfulness/harmlessness stand-in): a small r1-ts decoder
 * whose final-norm hidden state at the last token goes through a scalar head. Trained with the
 * Bradley–Terry loss −log σ(r_chosen − r_rejected).
 *
 * @example
 * ```ts
 * import { CharTokenizer, presets } from '@r1-ts/model';
 * import { PreferenceRewardModel } from '@r1-ts/pipeline';
 * const tok = CharTokenizer.fromCorpus(['hi', 'hello']);
 * const rm = new PreferenceRewardModel({ ...presets.tiny, vocab_size: tok.vocabSize }, tok, 0);
 * console.log(rm.score([{ prompt: 'hi', response: 'hello' }]).length); // 1
 * ```
 */
export class PreferenceRewardModel extends Module {
  readonly backbone: DeepSeekModel;
  readonly scoreHead: tf.Variable;

  /**
   * @param config - DeepSeek config of the backbone (its `vocab_size` must match `tokenizer`); a scalar head [hidden_size] reads the last token's hidden state.
   * @param tokenizer - Tokenizer of prompt–response pairs.
   * @param seed - Seed of the backbone's and the head's initial weights.
   */
  constructor(config: DeepSeekConfigInput, readonly tokenizer: Tokenizer, seed: number) {
    super(new Rng(seed));
    this.backbone = this.child('backbone', new DeepSeekModel(config, { rng: this.rng }));
    this.scoreHead = this.param('score_head.weight', [1, this.backbone.config.hidden_size], { normal: 0.02 });
  }

  /** Scores [N] of (prompt, response) pairs, differentiable. */
  scores(pairs: { prompt: string; response: string }[]): tf.Tensor1D {
    return tf.tidy(() => {
      const tok = this.tokenizer;
      const seqs = pairs.map((p) => tok.encode(tok.applyChatTemplate([{ role: 'user', content: p.prompt }], { addGenerationPrompt: true }) + p.response));
      const S = Math.max(...seqs.map((s) => s.length));
      const ids = new Int32Array(pairs.length * S).fill(tok.special.pad);
      const last = new Float32Array(pairs.length * S);
      seqs.forEach((s, b) => {
        s.forEach((id, t) => (ids[b * S + t] = id));
        last[b * S + s.length - 1] = 1;
      });
      const { hidden } = this.backbone.forward(tf.tensor2d(ids, [pairs.length, S], 'int32'));
      const h = rmsNorm(hidden, this.backbone.norm, this.backbone.config.rms_norm_eps); // [N, S, D]
      const pooled = tf.sum(tf.mul(h, tf.reshape(tf.tensor2d(last, [pairs.length, S]), [pairs.length, S, 1])), 1); // [N, D]
      return tf.reshape(tf.matMul(pooled, this.scoreHead, false, true), [-1]) as tf.Tensor1D;
    });
  }

  /** Plain-number scores. */
  score(pairs: { prompt: string; response: string }[]): number[] {
    const s = this.scores(pairs);
    const v = [...s.dataSync()];
    s.dispose();
    return v;
  }

  /** Trains on preference pairs with the Bradley–Terry loss; returns the loss per step. */
  train(pairs: PreferencePair[], options: { steps: number; batchSize: number; lr: number; seed: number; onStep?: (step: number, loss: number, accuracy: number) => void }): number[] {
    const opt = new AdamW(this.namedParameters(), { lr: options.lr, weightDecay: 0 });
    const rng = new Rng(options.seed);
    const losses: number[] = [];
    for (let step = 0; step < options.steps; step++) {
      const batch = Array.from({ length: options.batchSize }, () => pairs[rng.int(0, pairs.length - 1)]);
      let accuracy = 0;
      const { loss, grads } = valueAndNamedGrads(() => {
        const c = this.scores(batch.map((p) => ({ prompt: p.prompt, response: p.chosen })));
        const r = this.scores(batch.map((p) => ({ prompt: p.prompt, response: p.rejected })));
        accuracy = tf.tidy(() => tf.mean(tf.cast(tf.greater(c, r), 'float32')).dataSync()[0]);
        // Bradley–Terry: −log σ(c − r) = softplus(r − c). (tf.logSigmoid's custom gradient loses its
        // saved input inside variableGrads in tfjs 4.22.)
        return tf.mean(tf.softplus(tf.sub(r, c))) as tf.Scalar;
      }, this.namedParameters());
      clipGradNorm(grads, 1);
      opt.step(grads);
      losses.push(loss);
      options.onStep?.(step + 1, loss, accuracy);
    }
    opt.disposeState();
    return losses;
  }

  /** Saves the weights (safetensors). */
  save(path: string): void {
    writeSafetensors(path, Object.fromEntries(this.namedParameters()));
  }

  /** Loads weights saved by {@link PreferenceRewardModel.save}. */
  load(path: string): void {
    this.loadState(readSafetensors(path).tensors);
  }
}

/**
 * The text with the characters the reward model's tokenizer (the run's character vocabulary) does
 * not know dropped: a pretrained policy writes characters the task corpus never had.
 */
export function inVocabulary(tok: Tokenizer, text: string): string {
  try {
    tok.encode(text);
    return text;
  } catch {
    return [...text].filter((ch) => {
      try {
        tok.encode(ch);
        return true;
      } catch {
        return false;
      }
    }).join('');
  }
}
