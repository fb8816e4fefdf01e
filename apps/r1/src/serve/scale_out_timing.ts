// Time per GRPO step, synchronous (maxStaleness 0) vs async (maxStaleness 1), with rollouts on two
// `r1 serve` processes on loopback and disk weight sync. Not a test (timings are never asserted):
//   npx tsx --conditions=@r1-ts/source apps/r1/src/serve/scale_out_timing.ts [steps] [width]
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@r1-ts/tensor-kernels';
import { CharTokenizer, DeepSeekModel, DeepSeekPolicy, loadCheckpoint, openThinkSuffix, presets, saveCheckpoint } from '@r1-ts/model';
import { DiskWeightSync, EnginePolicy, GrpoTrainer } from '@r1-ts/grpo';
import { arithmeticTask, makeSplit } from '@r1-ts/tasks';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const steps = Number(process.argv[2] ?? 6);
const width = Number(process.argv[3] ?? 64);

function serve(ckpt: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--conditions=@r1-ts/source', '--import', 'tsx', join(root, 'apps/r1/src/bin.ts'), 'serve', ckpt, '--port', '0', '--name', 'm', '--backend', 'wasm'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /on (http:\/\/\S+)\/v1/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (c) => reject(new Error(`r1 serve exited ${c}`)));
  });
}

async function main() {
  await initBackend({ backend: 'wasm', quiet: true });
  const dir = mkdtempSync(join(tmpdir(), 'r1-scale-out-'));
  const ckpt = join(dir, 'ckpt');
  {
    // An untrained random model: the timing does not depend on what it says.
    const tok = CharTokenizer.fromCorpus(['<think></think><answer></answer>Whatisthe0123456789+-=?,. ']);
    const model = new DeepSeekModel({ ...presets.tiny, vocab_size: tok.vocabSize, hidden_size: width, num_hidden_layers: 2, num_nextn_predict_layers: 0, max_position_embeddings: 128 }, { seed: 0 });
    saveCheckpoint(ckpt, model, tok);
    model.dispose();
  }
  const servers = await Promise.all([serve(ckpt), serve(ckpt)]);
  const data = makeSplit(arithmeticTask({ digits: 2, ops: ['+'] }), { seed: 0, train: 32, eval: 1 }).train;
  const digits = (c: string) => [...c].filter((ch) => /\d/.test(ch)).length / Math.max(1, c.length);
  const results: Record<string, number[]> = {};
  for (const maxStaleness of [0, 1]) {
    const { model, tokenizer } = loadCheckpoint(ckpt);
    const local = new DeepSeekPolicy(model, tokenizer!);
    const policy = new EnginePolicy({
      policy: local,
      engine: { urls: servers.map((s) => s.url), vocabSize: tokenizer!.vocabSize, maxConcurrency: 8 },
      sync: new DiskWeightSync({ dir: join(dir, `w${maxStaleness}`), modelName: 'm', save: (d) => void saveCheckpoint(d, model, tokenizer) }),
      encode: (p) => local.encodePrompt(p),
      decode: (p, c) => openThinkSuffix(tokenizer!.decode([...p])) + tokenizer!.decode([...c], { skipSpecial: true }),
    });
    const trainer = new GrpoTrainer({
      policy, dataset: data, rewardFunctions: [digits], numGenerations: 8, promptsPerStep: 4, maxCompletionLength: 32,
      learningRate: 1e-3, beta: 0, seed: 1, quiet: true, maxStaleness,
    });
    const times: number[] = [];
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now();
      await trainer.step();
      times.push(performance.now() - t0);
    }
    results[maxStaleness ? 'async (maxStaleness 1)' : 'sync (maxStaleness 0)'] = times;
    trainer.dispose();
    policy.dispose();
    model.dispose();
  }
  for (const [k, t] of Object.entries(results)) {
    const rest = t.slice(1); // the first step has nothing to overlap with
    console.log(`${k}: ${t.map((x) => x.toFixed(0)).join(', ')} ms; mean of steps 2–${t.length}: ${(rest.reduce((a, b) => a + b, 0) / rest.length).toFixed(0)} ms`);
  }
  for (const s of servers) s.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}

void main();
