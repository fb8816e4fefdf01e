// `r1 eval`: pass@1 and cons@k (R1 §3) of a checkpoint in process, or of any OpenAI-compatible model
// over HTTP, on held-out problems of a verifiable task. Both paths draw sample j of problem i with the
// seed choiceSeed(seed + i, j) and score R1-format text the same way, so a checkpoint evaluated in
// process and the same checkpoint behind `r1 serve` give identical numbers.
import OpenAI from 'openai';
import { toR1Text } from '@r1-ts/distill';
import { openThinkSuffix } from '@r1-ts/model';
import type { CausalLM, Tokenizer } from '@r1-ts/model';
import { extractAnswer, formatReward, isMathEquivalent } from '@r1-ts/rewards';
import type { TaskSample } from '@r1-ts/tasks';
import { taskSplit } from '@r1-ts/pipeline';
import type { EvalResult } from '@r1-ts/pipeline';
import { Engine, choiceSeed } from './engine';
import { splitReasoning } from './reasoning';

/** Sampling settings of an evaluation (R1 §3 defaults: k = 4 here, T 0.6, top-p 0.95). */
export interface EvalSettings {
  k: number;
  temperature: number;
  topP: number;
  maxNewTokens: number;
  seed: number;
}

/** k completions of one problem, in R1 format, with their total token count. */
export interface ProblemSamples {
  texts: string[];
  tokens: number;
}

/**
 * The held-out problems of a task: for `addition`, the same eval split the pipeline draws with this
 * seed, digits and prompt style (@r1-ts/pipeline's `taskSplit`).
 *
 * @example
 * ```ts
 * const problems = evalProblems('addition', { digits: 3, problems: 100, seed: 0 });
 * console.log(problems[0].prompt); // e.g. 'What is 347+285?'
 * ```
 */
export function evalProblems(
  task: string,
  options: { digits: number; problems: number; seed: number; promptStyle?: 'question' | 'bare' },
): TaskSample[] {
  if (task !== 'addition') throw new RangeError(`--task must be addition, got ${JSON.stringify(task)}`);
  const spec = { kind: 'addition', digits: options.digits, promptStyle: options.promptStyle ?? 'question', trainProblems: 0, evalProblems: options.problems } as const;
  return taskSplit(spec, options.seed).eval;
}

/**
 * Scores k samples per problem like the pipeline's `evaluateModel`: pass@1 = mean correctness,
 * cons@k = the majority answer is correct, format rate, mean completion length.
 *
 * @example
 * ```ts
 * const p = [{ id: 'a', prompt: 'What is 1+1?', answer: '2', task: 'arithmetic', difficulty: 1 }];
 * const r = scoreSamples(p, [{ texts: ['<think>1+1=2</think><answer>2</answer>'], tokens: 12 }]);
 * console.log(r.passAt1); // 1
 * ```
 */
export function scoreSamples(problems: readonly TaskSample[], samples: readonly ProblemSamples[]): EvalResult {
  const k = samples[0]?.texts.length ?? 0;
  let correct = 0;
  let majority = 0;
  let formatted = 0;
  let length = 0;
  const examples: EvalResult['examples'] = [];
  problems.forEach((p, i) => {
    const votes = new Map<string, number>();
    length += samples[i].tokens;
    samples[i].texts.forEach((text, s) => {
      const answer = extractAnswer(text);
      const ok = answer !== null && isMathEquivalent(answer, p.answer);
      correct += ok ? 1 : 0;
      formatted += formatReward(text, { prompt: p.prompt }) === 1 ? 1 : 0;
      if (answer !== null) votes.set(answer.trim(), (votes.get(answer.trim()) ?? 0) + 1);
      if (examples.length < 6 && s === 0) examples.push({ prompt: p.prompt, completion: text, correct: ok });
    });
    const top = [...votes].sort((a, b) => b[1] - a[1])[0];
    if (top && isMathEquivalent(top[0], p.answer)) majority++;
  });
  const n = problems.length;
  return { passAt1: correct / (n * k), consAtK: majority / n, formatRate: formatted / (n * k), meanLength: length / (n * k), problems: n, k, examples };
}

/**
 * Samples k completions per problem from a model in process (continuous batching, per-sample
 * seeds as an `r1 serve` of the same checkpoint would use); `stopIds`: every eos id (default: the
 * tokenizer's and the config's).
 *
 * @example
 * ```ts
 * import { loadCheckpoint } from '@r1-ts/model';
 * const { model, tokenizer } = loadCheckpoint('runs/demo/final');
 * const problems = evalProblems('addition', { digits: 3, problems: 20, seed: 0 });
 * const r = scoreSamples(problems, await sampleInProcess(model, tokenizer!, problems, { k: 4, temperature: 0.6, topP: 0.95, maxNewTokens: 64, seed: 0 }));
 * ```
 */
export async function sampleInProcess(
  model: CausalLM, tokenizer: Tokenizer, problems: readonly TaskSample[], s: EvalSettings, options: { stopIds?: readonly number[] } = {},
): Promise<ProblemSamples[]> {
  const engine = new Engine(model, tokenizer, { maxBatch: 32, stopIds: options.stopIds });
  return Promise.all(
    problems.map(async (p, i) => {
      const promptText = tokenizer.applyChatTemplate([{ role: 'user', content: p.prompt }], { addGenerationPrompt: true });
      const prompt = tokenizer.encode(promptText);
      const inReasoning = openThinkSuffix(promptText) !== '';
      const maxTokens = Math.min(s.maxNewTokens, model.config.max_position_embeddings - prompt.length);
      const outs = await Promise.all(
        Array.from({ length: s.k }, (_, j) =>
          engine.submit({ prompt, maxTokens, seed: choiceSeed(s.seed + i, j), sampling: { temperature: s.temperature, topP: s.topP } }),
        ),
      );
      // Through the same reasoning/content split a server applies, so both paths score the same text.
      const texts = outs.map((o) => {
        const { reasoning, content } = splitReasoning(o.text, { inReasoning });
        return toR1Text(reasoning, content);
      });
      return { texts, tokens: outs.reduce((a, o) => a + o.tokens.length, 0) };
    }),
  );
}

/**
 * Samples k completions per problem from an OpenAI-compatible endpoint: one request per problem with
 * `n = k` and `seed = seed + i`; reasoning from `reasoning_content` or `<think>` tags.
 *
 * @example
 * ```ts
 * const problems = evalProblems('addition', { digits: 3, problems: 20, seed: 0 });
 * const samples = await sampleEndpoint({ baseURL: 'http://127.0.0.1:8000/v1', model: 'r1-ts' }, problems, { k: 4, temperature: 0.6, topP: 0.95, maxNewTokens: 64, seed: 0 });
 * console.log(scoreSamples(problems, samples).passAt1);
 * ```
 */
export async function sampleEndpoint(
  endpoint: { baseURL: string; model: string; apiKey?: string; concurrency?: number },
  problems: readonly TaskSample[],
  s: EvalSettings,
): Promise<ProblemSamples[]> {
  const client = new OpenAI({ baseURL: endpoint.baseURL, apiKey: endpoint.apiKey ?? process.env.OPENAI_API_KEY ?? 'not-needed', maxRetries: 4 });
  const out: ProblemSamples[] = new Array(problems.length);
  let next = 0;
  const worker = async () => {
    while (next < problems.length) {
      const i = next++;
      const res = await client.chat.completions.create({
        model: endpoint.model, messages: [{ role: 'user', content: problems[i].prompt }],
        n: s.k, temperature: s.temperature, top_p: s.topP, max_tokens: s.maxNewTokens, seed: s.seed + i,
      });
      const choices = [...res.choices].sort((a, b) => a.index - b.index);
      const texts = choices.map((c) => toR1Text((c.message as { reasoning_content?: string | null }).reasoning_content ?? null, c.message.content ?? ''));
      out[i] = { texts, tokens: res.usage?.completion_tokens ?? 0 };
    }
  };
  await Promise.all(Array.from({ length: Math.min(endpoint.concurrency ?? 8, problems.length) }, worker));
  return out;
}

/**
 * The report `r1 eval` prints (one `key value` line each; `pass@1` is the line tests compare).
 *
 * @example
 * ```ts
 * console.log(formatEval('r1-ts', 'addition', { passAt1: 0.5, consAtK: 0.5, formatRate: 1, meanLength: 30, problems: 2, k: 2, examples: [] }));
 * ```
 */
export function formatEval(model: string, task: string, r: EvalResult): string {
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  return [
    `model      ${model}`,
    `task       ${task} (${r.problems} problems, k=${r.k})`,
    `pass@1     ${pct(r.passAt1)}`,
    `cons@${r.k}`.padEnd(11) + pct(r.consAtK),
    `format     ${pct(r.formatRate)}`,
    `length     ${r.meanLength.toFixed(2)} tokens`,
  ].join('\n');
}
