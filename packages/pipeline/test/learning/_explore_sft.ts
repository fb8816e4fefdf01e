import { initBackend } from '@r1-ts/tensor-kernels';
import { CharTokenizer, DeepSeekModel, SftTrainer, presets, saveCheckpoint } from '@r1-ts/model';
import { arithmeticTask, makeSplit } from '@r1-ts/tasks';
import { evaluateModel } from '../../src/evaluate';

const backend = process.env.BACKEND ?? 'wasm';
await initBackend({ backend: backend as 'wasm', quiet: true });
const gen = arithmeticTask({ digits: 2, ops: ['+'], promptStyle: (process.env.STYLE as 'bare') ?? 'bare' });
const split = makeSplit(gen, { seed: 0, train: 2000, eval: 100 });
const sftData = split.train.slice(0, Number(process.env.N ?? 500)).map((s) => ({ prompt: s.prompt, completion: gen.completion(s) }));
const tok = CharTokenizer.fromCorpus([...split.train, ...split.eval].flatMap((s) => [s.prompt, gen.completion(s)]));
console.log('vocab', tok.vocabSize, sftData[0]);
const H = Number(process.env.H ?? 64);
const cfg = { ...presets.tiny, vocab_size: tok.vocabSize, hidden_size: H, num_hidden_layers: 2, num_nextn_predict_layers: 0, max_position_embeddings: 64 };
const model = new DeepSeekModel(cfg, { seed: 0 });
const lr = Number(process.env.LR ?? 3e-3);
const bs = Number(process.env.BS ?? 16);
const trainer = new SftTrainer(model, tok, { lr, batchSize: bs, seed: 0 });
const steps = Number(process.env.STEPS ?? 600);
const every = Number(process.env.EVERY ?? 100);
let t = performance.now();
let tokens = 0;
for (let s = 1; s <= steps; s++) {
  const st = trainer.step(trainer.nextBatch(sftData));
  tokens += st.tokens;
  if (s % every === 0) {
    const dt = (performance.now() - t) / 1000;
    const e0 = performance.now();
    const r = evaluateModel(model, tok, split.eval, { k: 4, temperature: 0.6, topP: 0.95, maxNewTokens: 30, seed: 1 });
    const et = (performance.now() - e0) / 1000;
    console.log(`step ${s} loss ${st.loss.toFixed(3)} sft ${(dt / every).toFixed(3)} s/step ${(tokens / dt).toFixed(0)} tok/s | eval pass@1 ${r.passAt1.toFixed(3)} cons ${r.consAtK.toFixed(2)} fmt ${r.formatRate.toFixed(2)} len ${r.meanLength.toFixed(1)} (${et.toFixed(1)} s)`);
    if (process.env.SAVE) saveCheckpoint(`${process.env.SAVE}/sft-${s}`, model, tok);
    tokens = 0;
    t = performance.now();
  }
}
