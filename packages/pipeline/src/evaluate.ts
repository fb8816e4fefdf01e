import { Rng } from '@r1-ts/tensor-kernels';
import { generate, openThinkSuffix } from '@r1-ts/model';
import type { CausalLM, Tokenizer } from '@r1-ts/model';
import { extractAnswer, formatReward, isMathEquivalent } from '@r1-ts/rewards';
import type { TaskSample } from '@r1-ts/tasks';
import { passAt1StandardError } from './findings';

/**
 * Evaluation settings (R1 §3: k samples per problem at temperature 0.6, top-p 0.95).
 *
 * @example
 * ```ts
 * import { evaluateModel, type EvalOptions } from '@r1-ts/pipeline';
 * import type { CausalLM, Tokenizer } from '@r1-ts/model';
 * import type { TaskSample } from '@r1-ts/tasks';
 * const r1Style: EvalOptions = { k: 8, temperature: 0.6, topP: 0.95, maxNewTokens: 64, seed: 1 };
 * const passAt1 = (m: CausalLM, tok: Tokenizer, problems: TaskSample[]) => evaluateModel(m, tok, problems, r1Style).passAt1;
 * ```
 */
export interface EvalOptions {
  k: number;
  temperature: number;
  topP: number;
  maxNewTokens: number;
  seed?: number;
  /** Problems per generation batch (× k rows). Default 16. */
  batchSize?: number;
}

/**
 * What {@link evaluateModel} measures.
 *
 * @example
 * ```ts
 * import type { EvalResult } from '@r1-ts/pipeline';
 * const summary = (r: EvalResult) =>
 *   `pass@1 ${r.passAt1.toFixed(3)}, cons@${r.k} ${r.consAtK.toFixed(3)}, format ${(100 * r.formatRate).toFixed(0)}% over ${r.problems} problems`;
 * ```
 */
export interface EvalResult {
  /** Mean correctness over k samples per problem. */
  passAt1: number;
  /** Majority vote over the k answers is correct. */
  consAtK: number;
  /** Fraction of samples in exactly the `<think>…</think><answer>…</answer>` format. */
  formatRate: number;
  /** Mean completion length (tokens). */
  meanLength: number;
  problems: number;
  k: number;
  /**
   * Standard error of passAt1 over the problems (sd of the per-problem pass rates / √problems; at
   * most 0.5/√problems whatever k is). Absent in eval.json files written before it was measured.
   */
  passAt1Se?: number;
  /** A few sampled completions, for the report. */
  examples: { prompt: string; completion: string; correct: boolean }[];
}

/**
 * pass@1 and cons@k of a model on held-out problems (R1 §3): k samples per problem; pass@1 is the
 * mean correctness, cons@k the correctness of the majority answer.
 *
 * @param model - The model to evaluate (any family); left in inference mode, not trained.
 * @param tokenizer - Its tokenizer: prompts go through its chat template, answers are decoded with it.
 * @param problems - Held-out problems, each with a prompt and a gold `answer`.
 * @param options - `k` samples per problem, `temperature`, `topP`, `maxNewTokens`, optional `seed` and `batchSize` (problems per generation batch, default 16).
 *
 * @example
 * ```ts
 * import { CharTokenizer, DeepSeekModel, presets } from '@r1-ts/model';
 * import { evaluateModel } from '@r1-ts/pipeline';
 * const tok = CharTokenizer.fromCorpus(['What is 1+1?', '2']);
 * const model = new DeepSeekModel({ ...presets.tiny, vocab_size: tok.vocabSize });
 * const problems = [{ id: 'a', prompt: 'What is 1+1?', answer: '2', task: 'arithmetic', difficulty: 1 }];
 * const r = evaluateModel(model, tok, problems, { k: 2, temperature: 0.6, topP: 0.95, maxNewTokens: 4 });
 * console.log(r.passAt1);
 * ```
 */
export function evaluateModel(model: CausalLM<any>, tokenizer: Tokenizer, problems: readonly TaskSample[], options: EvalOptions): EvalResult {
  const { k } = options;
  const rng = new Rng(options.seed ?? 1234);
  const batch = options.batchSize ?? 16;
  let correct = 0;
  let majority = 0;
  let formatted = 0;
  let length = 0;
  const perProblem: number[] = [];
  const examples: EvalResult['examples'] = [];
  for (let i = 0; i < problems.length; i += batch) {
    const chunk = problems.slice(i, i + batch);
    const rendered = chunk.map((p) => tokenizer.applyChatTemplate([{ role: 'user', content: p.prompt }], { addGenerationPrompt: true }));
    const prompts = rendered.flatMap((text) => Array.from({ length: k }, () => tokenizer.encode(text)));
    const outs = generate(model, tokenizer, prompts, { temperature: options.temperature, topP: options.topP, maxNewTokens: options.maxNewTokens, rng });
    chunk.forEach((p, j) => {
      const votes = new Map<string, number>();
      const before = correct;
      // A prompt that opened `<think>` (R1-Distill's template) is part of the R1-format text scored.
      const opened = openThinkSuffix(rendered[j]);
      for (let s = 0; s < k; s++) {
        const out = outs[j * k + s];
        const text = opened + out.text;
        const answer = extractAnswer(text);
        const ok = answer !== null && isMathEquivalent(answer, p.answer);
        correct += ok ? 1 : 0;
        formatted += formatReward(text, { prompt: p.prompt }) === 1 ? 1 : 0;
        length += out.tokens.length;
        if (answer !== null) votes.set(answer.trim(), (votes.get(answer.trim()) ?? 0) + 1);
        if (examples.length < 6 && s === 0) examples.push({ prompt: p.prompt, completion: text, correct: ok });
      }
      perProblem.push((correct - before) / k);
      const top = [...votes].sort((a, b) => b[1] - a[1])[0];
      if (top && isMathEquivalent(top[0], p.answer)) majority++;
    });
  }
  const n = problems.length;
  return { passAt1: correct / (n * k), consAtK: majority / n, formatRate: formatted / (n * k), meanLength: length / (n * k), problems: n, k, passAt1Se: passAt1StandardError(perProblem), examples };
}
