import { existsSync, readFileSync } from 'node:fs';
import { appendJsonl } from '@r1-ts/tasks';
import type { TaskSample } from '@r1-ts/tasks';
import { accuracyReward } from '@r1-ts/rewards';
import type { RewardFunction } from '@r1-ts/rewards';
import { Rng, rejectUnknownKeys } from '@r1-ts/tensor-kernels';
import { rejectionReason } from './filters';
import type { RejectionOptions, RejectionRule } from './filters';

/**
 * Anything that can complete prompts: a local r1-ts policy, or a remote OpenAI-compatible model.
 * `generate` returns one completion per prompt, in order; `truncated` says it hit `maxNewTokens`.
 *
 * @example
 * ```ts
 * import type { Teacher } from '@r1-ts/distill';
 * // A stand-in teacher that always answers 4 (tests, dry runs).
 * const echo: Teacher = {
 *   generate: (prompts) => prompts.map(() => ({ text: '<think>2+2=4</think><answer>4</answer>', truncated: false })),
 * };
 * ```
 */
export interface Teacher {
  generate(
    prompts: readonly string[],
    options: { temperature: number; topP: number; maxNewTokens: number; rng: Rng },
  ): { text: string; truncated: boolean }[] | Promise<{ text: string; truncated: boolean }[]>;
}

/**
 * One teacher sample as stored in the JSONL file.
 *
 * @example
 * ```ts
 * import type { TeacherSample } from '@r1-ts/distill';
 * const line: TeacherSample = {
 *   id: 'arith-0', k: 0, prompt: '2+2?', completion: '<think>…</think><answer>4</answer>',
 *   correct: true, truncated: false, rejected: null,
 * };
 * console.log(JSON.stringify(line));
 * ```
 */
export interface TeacherSample {
  /** `TaskSample.id` of the prompt. */
  id: string;
  /** Which of the k samples of this prompt. */
  k: number;
  prompt: string;
  completion: string;
  correct: boolean;
  truncated: boolean;
  /** Null when kept. */
  rejected: RejectionRule | null;
}

/**
 * Options of {@link sampleFromTeacher}.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import type { TeacherSamplingOptions } from '@r1-ts/distill';
 * const options: TeacherSamplingOptions = {
 *   k: 4, temperature: 0.6, topP: 0.95, maxNewTokens: 256, seed: 1,
 *   jsonlPath: join(mkdtempSync(join(tmpdir(), 'teacher-')), 'samples.jsonl'), // resumable
 *   onProgress: (done, total) => console.log(`${done}/${total}`),
 * };
 * ```
 */
export interface TeacherSamplingOptions extends RejectionOptions {
  /** Samples per prompt. Default 4. */
  k?: number;
  /** Prompts per teacher call. Default 32. */
  batchSize?: number;
  temperature?: number;
  topP?: number;
  maxNewTokens?: number;
  seed?: number;
  /** Correctness check (default: accuracyReward = 1). */
  verify?: RewardFunction;
  /** Append each sample here as it is made; samples already in the file are not regenerated. */
  jsonlPath?: string;
  /** Progress callback: samples done out of total. */
  onProgress?: (done: number, total: number) => void;
}

// Record<keyof …> makes this a compile error when TeacherSamplingOptions gains or loses a key.
const SAMPLING_KEYS = Object.keys({
  k: true, batchSize: true, temperature: true, topP: true, maxNewTokens: true, seed: true, verify: true,
  jsonlPath: true, onProgress: true, minLanguageConsistency: true, maxParagraphChars: true,
} satisfies Record<keyof TeacherSamplingOptions, true>);

/**
 * What {@link sampleFromTeacher} returns.
 *
 * @example
 * ```ts
 * import { sampleFromTeacher, type TeacherSamplingResult } from '@r1-ts/distill';
 * const teacher = { generate: (p: readonly string[]) => p.map(() => ({ text: '<answer>5</answer>', truncated: false })) };
 * const res: TeacherSamplingResult = await sampleFromTeacher(teacher, [{ id: 'a', prompt: '2+2?', answer: '4', task: 'arithmetic', difficulty: 1 }], { k: 2 });
 * console.log(res.counts.wrong_answer, res.kept.length); // 2 0
 * ```
 */
export interface TeacherSamplingResult {
  /** Every sample (kept and rejected). */
  samples: TeacherSample[];
  /** The kept ones. */
  kept: TeacherSample[];
  /** Rejections per rule, plus `kept` and `total`. */
  counts: Record<RejectionRule | 'kept' | 'total', number>;
}

/**
 * Samples k completions per prompt from a teacher, verifies each with the rewards and filters it
 * with R1's rejection rules (R1 §2.3.3, §2.4). With `jsonlPath`, every sample is appended as it is
 * made and an interrupted run resumes without regenerating what is on disk.
 *
 * @param teacher - Anything with `generate(prompts, sampling)`: a local model or `OpenAICompatibleTeacher`.
 * @param prompts - Task samples with their reference answers.
 * @param options - `k`, `batchSize`, sampling (`temperature`, `topP`, `maxNewTokens`, `seed`), `verify`, `jsonlPath` (resumable), `onProgress` and the rejection thresholds.
 * @example
 * ```ts
 * import { sampleFromTeacher } from '@r1-ts/distill';
 * const teacher = { generate: (p: readonly string[]) => p.map(() => ({ text: '<think>2+2=4</think><answer>4</answer>', truncated: false })) };
 * const res = await sampleFromTeacher(teacher, [{ id: 'a', prompt: '2+2?', answer: '4', task: 'arithmetic', difficulty: 1 }], { k: 2 });
 * console.log(res.counts.kept); // 2
 * ```
 */
export async function sampleFromTeacher(teacher: Teacher, prompts: readonly TaskSample[], options: TeacherSamplingOptions = {}): Promise<TeacherSamplingResult> {
  rejectUnknownKeys(options, SAMPLING_KEYS, 'sampleFromTeacher options', { n: 'k', samplesPerPrompt: 'k', maxTokens: 'maxNewTokens', top_p: 'topP' });
  const k = options.k ?? 4;
  const batchSize = options.batchSize ?? 32;
  const verify = options.verify ?? accuracyReward;
  const done = new Map<string, TeacherSample>();
  if (options.jsonlPath && existsSync(options.jsonlPath)) {
    for (const line of readFileSync(options.jsonlPath, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const s = JSON.parse(line) as TeacherSample;
        done.set(`${s.id}#${s.k}`, s);
      } catch {
        // A line cut by a crash mid-write is regenerated.
      }
    }
  }
  const todo: { sample: TaskSample; k: number }[] = [];
  for (const sample of prompts) for (let j = 0; j < k; j++) if (!done.has(`${sample.id}#${j}`)) todo.push({ sample, k: j });
  const total = prompts.length * k;
  const rules: RejectionOptions = { minLanguageConsistency: options.minLanguageConsistency, maxParagraphChars: options.maxParagraphChars };
  const rng = new Rng(options.seed ?? 0);
  // Skip the random draws of finished batches' worth of work so resumed sampling stays seeded.
  for (let i = 0; i < todo.length; i += batchSize) {
    const chunk = todo.slice(i, i + batchSize);
    const outs = await teacher.generate(chunk.map((c) => c.sample.prompt), {
      temperature: options.temperature ?? 0.6, topP: options.topP ?? 0.95, maxNewTokens: options.maxNewTokens ?? 64, rng,
    });
    for (let j = 0; j < chunk.length; j++) {
      const { sample, k: kk } = chunk[j];
      const text = outs[j].text;
      const rewardSample = { ...sample }; // a plain object type: RewardSample's index signature accepts it
      const correct = (await verify(text, rewardSample)) === 1;
      const rejected = await rejectionReason(text, rewardSample, correct, rules);
      const record: TeacherSample = { id: sample.id, k: kk, prompt: sample.prompt, completion: text, correct, truncated: outs[j].truncated, rejected };
      if (options.jsonlPath) await appendJsonl(options.jsonlPath, [record]);
      done.set(`${sample.id}#${kk}`, record);
    }
    options.onProgress?.(done.size, total);
  }
  const samples = prompts.flatMap((s) => Array.from({ length: k }, (_, j) => done.get(`${s.id}#${j}`)!));
  const counts = { wrong_answer: 0, mixed_language: 0, long_paragraph: 0, code_block: 0, kept: 0, total: samples.length };
  for (const s of samples) {
    if (s.rejected) counts[s.rejected]++;
    else counts.kept++;
  }
  return { samples, kept: samples.filter((s) => !s.rejected), counts };
}
