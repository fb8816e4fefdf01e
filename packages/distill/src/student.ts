import * as tf from '@tensorflow/tfjs';
import { ConfigError, rejectUnknownKeys } from '@r1-ts/tensor-kernels';
import { SftTrainer } from '@r1-ts/model';
import type { DeepSeekModel, SftOptions, StepStats, Tokenizer } from '@r1-ts/model';
import type { TeacherSample } from './teacher';

/**
 * Plain SFT of a (smaller, dense) student on the teacher's kept samples — R1 §2.4's distillation:
 * no RL. Returns the per-step stats.
 *
 * @param student - The student model (smaller, usually dense); trained in place.
 * @param tokenizer - The tokenizer of the student.
 * @param kept - The teacher's kept samples (`prompt`, `completion`).
 * @param options - `steps`, an optional `onStep` callback, and `SftTrainer`'s options (`lr`, `batchSize`, `maxLength`, `weightDecay`, `seed`, …).
 * @example
 * ```ts
 * import { CharTokenizer, DeepSeekModel, presets } from '@r1-ts/model';
 * import { sftStudent } from '@r1-ts/distill';
 * const kept = [{ id: 'a', k: 0, prompt: '2+2?', completion: '<think>2+2=4</think><answer>4</answer>', correct: true, truncated: false, rejected: null }];
 * const tok = CharTokenizer.fromCorpus(kept.flatMap((s) => [s.prompt, s.completion]));
 * const student = new DeepSeekModel({ ...presets.tiny, vocab_size: tok.vocabSize, hidden_size: 32 });
 * const stats = sftStudent(student, tok, kept, { steps: 2, batchSize: 1 });
 * ```
 */
export function sftStudent(
  student: DeepSeekModel,
  tokenizer: Tokenizer,
  kept: readonly Pick<TeacherSample, 'prompt' | 'completion'>[],
  options: SftOptions & { steps: number; onStep?: (s: StepStats) => void },
): StepStats[] {
  const { steps, onStep, ...sft } = options;
  const trainer = new SftTrainer(student, tokenizer, sft); // SftTrainer rejects keys it does not define
  if (!Number.isInteger(steps) || steps < 0) throw new ConfigError(`sftStudent options.steps must be an integer ≥ 0, got ${JSON.stringify(steps)}`, ['steps']);
  const data = kept.map((s) => ({ prompt: s.prompt, completion: s.completion }));
  try {
    return trainer.train(data, steps, onStep);
  } finally {
    trainer.optimizer.disposeState();
  }
}

/**
 * Token-level logit distillation loss over a mask: forward KL(p_teacher ‖ p_student) (mean-seeking,
 * classic KD) or reverse KL(p_student ‖ p_teacher) (mode-seeking, as in MiniLLM), with a softmax
 * temperature τ (scaled by τ² as Hinton et al.). Teacher logits are constants.
 *
 * @param studentLogits - [B, S, V]
 * @param teacherLogits - [B, S, V] (same vocabulary)
 * @param mask - [B, S] 1 where the token counts
 * @param options - `direction`: `forward` (default) or `reverse` KL; `temperature` τ that divides both logits (default 1; the loss is scaled by τ²). Unknown keys are a ConfigError.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { logitDistillationLoss } from '@r1-ts/distill';
 * const l = logitDistillationLoss(tf.zeros([1, 2, 3]), tf.zeros([1, 2, 3]), tf.ones([1, 2]));
 * console.log(l.dataSync()[0]); // 0
 * ```
 */
export function logitDistillationLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  mask: tf.Tensor,
  options: { direction?: 'forward' | 'reverse'; temperature?: number } = {},
): tf.Scalar {
  rejectUnknownKeys(options, ['direction', 'temperature'], 'logitDistillationLoss options', { tau: 'temperature', kl: 'direction' });
  const t = options.temperature ?? 1;
  if (!(t > 0) || !Number.isFinite(t)) throw new ConfigError(`logitDistillationLoss options.temperature must be a finite number > 0, got ${t}`, ['temperature']);
  if (options.direction !== undefined && options.direction !== 'forward' && options.direction !== 'reverse') {
    throw new ConfigError(`logitDistillationLoss options.direction must be 'forward' or 'reverse', got ${JSON.stringify(options.direction)}`, ['direction']);
  }
  return tf.tidy(() => {
    const ls = tf.logSoftmax(tf.div(studentLogits, t)); // [B, S, V]
    const lt = tf.logSoftmax(tf.div(teacherLogits, t)); // the caller differentiates only w.r.t. the student
    const kl = options.direction === 'reverse'
      ? tf.sum(tf.mul(tf.exp(ls), tf.sub(ls, lt)), -1) // KL(student ‖ teacher)
      : tf.sum(tf.mul(tf.exp(lt), tf.sub(lt, ls)), -1); // KL(teacher ‖ student)
    const m = tf.cast(mask, 'float32');
    return tf.mul(tf.div(tf.sum(tf.mul(kl, m)), tf.maximum(tf.sum(m), 1)), t * t) as tf.Scalar;
  });
}
