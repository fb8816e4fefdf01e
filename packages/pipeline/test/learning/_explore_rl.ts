import { initBackend } from '@r1-ts/tensor-kernels';
import { DeepSeekPolicy, loadCheckpoint } from '@r1-ts/model';
import type { Tokenizer } from '@r1-ts/model';
import { GrpoTrainer } from '@r1-ts/grpo';
import { GspoTrainer } from '@r1-ts/gspo';
import { accuracyReward, formatReward } from '@r1-ts/rewards';
import { arithmeticTask, makeSplit } from '@r1-ts/tasks';
import type { TaskSample } from '@r1-ts/tasks';
import { evaluateModel } from '../../src/evaluate';

await initBackend({ backend: 'wasm', quiet: true });
const env = (k: string, d: string) => process.env[k] ?? d;
const gen = arithmeticTask({ digits: 2, ops: ['+'], promptStyle: 'bare' });
const split = makeSplit(gen, { seed: 0, train: 2000, eval: 100 });
const ck = loadCheckpoint(env('CKPT', '/tmp/lt/a/sft-300'));
const model = ck.model;
const tok = ck.tokenizer as Tokenizer;
const ev = (tag: string) => {
  const t = performance.now();
  const r = evaluateModel(model, tok, split.eval, { k: 4, temperature: 0.6, topP: 0.95, maxNewTokens: 30, seed: 1 });
  console.log(`${tag} pass@1 ${r.passAt1.toFixed(3)} cons ${r.consAtK.toFixed(2)} fmt ${r.formatRate.toFixed(2)} len ${r.meanLength.toFixed(1)} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  return r;
};
ev('before');
const algo = env('ALGO', 'grpo');
const policy = new DeepSeekPolicy(model, tok);
const acc = (c: string, s: TaskSample) => accuracyReward(c, { ...s });
const fmt = (c: string, s: TaskSample) => formatReward(c, { ...s });
Object.defineProperty(acc, 'name', { value: 'accuracy' });
Object.defineProperty(fmt, 'name', { value: 'format' });
const opts = {
  policy, dataset: split.train, rewardFunctions: [acc, fmt], rewardWeights: [1, Number(env('FW', '0.1'))],
  numGenerations: Number(env('G', '8')), promptsPerStep: Number(env('P', '4')), beta: 0,
  temperature: Number(env('T', '1')), topP: 1, maxCompletionLength: 30, dynamicSampling: env('DS', '1') === '1',
  learningRate: Number(env('LR', '3e-4')), seed: 0, quiet: true,
  numIterations: Number(env('MU', '1')), miniBatchSize: process.env.MB ? Number(process.env.MB) : undefined,
  ...(algo === 'grpo' ? { epsilonLow: 0.2, epsilonHigh: Number(env('EH', '0.28')) } : {}),
};
let genMs = 0;
let stepStart = 0;
const trainer = algo === 'gspo'
  ? new GspoTrainer<TaskSample>({ ...opts, onEvent: (e) => { if (e.type === 'step_start') stepStart = performance.now(); if (e.type === 'rollout') { genMs += performance.now() - stepStart; stepStart = performance.now(); } } })
  : new GrpoTrainer<TaskSample>({ ...opts, onEvent: (e) => { if (e.type === 'step_start') stepStart = performance.now(); if (e.type === 'rollout') { genMs += performance.now() - stepStart; stepStart = performance.now(); } } });
const steps = Number(env('STEPS', '200'));
const every = Number(env('EVERY', '50'));
let t0 = performance.now();
let c0 = process.cpuUsage();
let agg = { reward: 0, acc: 0, tries: 0, toks: 0, clip: 0, drop: 0, rows: 0 };
for (let s = 1; s <= steps; s++) {
  const { metrics: m, rollouts } = await trainer.step();
  agg.reward += m.reward; agg.acc += m['rewards/accuracy/mean']; agg.tries += m['dynamic_sampling/tries'] ?? 1;
  agg.toks += rollouts.reduce((a, r) => a + r.length, 0); agg.clip += m['clip_ratio/region_mean'] ?? 0; agg.drop += m['dynamic_sampling/dropped_groups'] ?? 0;
  agg.rows += rollouts.length;
  if (s % every === 0) {
    const dt = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    console.log(`step ${s}: ${(dt / every).toFixed(2)} s/step (gen ${(genMs / 1000 / every).toFixed(2)}) cpu ${((cpu.user + cpu.system) / 1e6 / every).toFixed(2)} s/step, rows/step ${(agg.rows / every).toFixed(1)}, gen tok/s ${(agg.toks / (genMs / 1000)).toFixed(0)}, train acc ${(agg.acc / every).toFixed(3)} reward ${(agg.reward / every).toFixed(3)} tries ${(agg.tries / every).toFixed(2)} dropped ${(agg.drop / every).toFixed(2)} clip ${(agg.clip / every).toFixed(4)}`);
    ev(`  eval@${s}`);
    agg = { reward: 0, acc: 0, tries: 0, toks: 0, clip: 0, drop: 0, rows: 0 };
    genMs = 0;
    t0 = performance.now();
    c0 = process.cpuUsage();
  }
}
