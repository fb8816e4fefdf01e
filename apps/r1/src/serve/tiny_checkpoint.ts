// A small trained checkpoint for the serving tests and examples: a dense-MLA + MoE model with a
// character tokenizer, given a few cold-start SFT steps on R1-format addition so its completions open
// with <think> and carry digits.
import { CharTokenizer, DeepSeekModel, SftTrainer, SPECIAL_TOKENS, presets, saveCheckpoint } from '@r1-ts/model';
import { arithmeticTask, makeSplit } from '@r1-ts/tasks';
import type { TaskSample } from '@r1-ts/tasks';

/** Options of {@link makeTinyCheckpoint}. */
export interface TinyCheckpointOptions {
  /** Operand digits of the addition task. Default 2. */
  digits?: number;
  /** SFT steps (batch 16, lr 3e-3). Default 40. */
  steps?: number;
  seed?: number;
}

/**
 * Trains and saves a tiny checkpoint (presets.tiny shrunk to 2 layers, hidden 32) on addition; returns
 * the held-out problems it was not trained on.
 *
 * @example
 * ```ts
 * import { tmpdir } from 'node:os';
 * const { evalProblems } = makeTinyCheckpoint(`${tmpdir()}/tiny-ckpt`, { steps: 5 });
 * console.log(evalProblems.length); // 16
 * ```
 */
export function makeTinyCheckpoint(dir: string, options: TinyCheckpointOptions = {}): { evalProblems: TaskSample[]; train: TaskSample[] } {
  const seed = options.seed ?? 0;
  const generator = arithmeticTask({ digits: options.digits ?? 2, ops: ['+'] });
  const split = makeSplit(generator, { seed, train: 84, eval: 16 });
  const data = split.train.map((s) => ({ prompt: s.prompt, completion: generator.completion(s) }));
  const texts = [...data.flatMap((d) => [d.prompt, d.completion]), ...split.eval.map((s) => s.prompt), Object.values(SPECIAL_TOKENS).join(''), 'Whatisthe0123456789+-=?,. ']
  const tokenizer = CharTokenizer.fromCorpus(texts);
  const model = new DeepSeekModel(
    { ...presets.tiny, vocab_size: tokenizer.vocabSize, hidden_size: 32, num_hidden_layers: 2, q_lora_rank: 16, kv_lora_rank: 16, num_nextn_predict_layers: 0, max_position_embeddings: 128 },
    { seed },
  );
  const trainer = new SftTrainer(model, tokenizer, { lr: 3e-3, batchSize: 16, seed });
  trainer.train(data, options.steps ?? 40);
  trainer.optimizer.disposeState();
  saveCheckpoint(dir, model, tokenizer);
  model.dispose();
  return { evalProblems: split.eval, train: split.train };
}
