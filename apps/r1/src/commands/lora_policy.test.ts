// LoRA GRPO in process: GrpoTrainer over a LoraPolicy on a dense model. Only the adapters change,
// the KL reference is the base model (adapters off, no copy), and no tensor leaks across steps.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { CharTokenizer, DeepSeekPolicy, DenseModel } from '@r1-ts/model';
import { GrpoTrainer, type Policy } from '@r1-ts/grpo';
import { LoraModel, LoraPolicy } from '@r1-ts/lora';

describe('LoraPolicy under GrpoTrainer', () => {
  it('trains only adapter variables, uses the base as reference, and keeps the tensor count flat', async () => {
    const tok = CharTokenizer.fromCorpus(['0123456789+=?']);
    const model = new DenseModel({
      model_type: 'qwen2', vocab_size: tok.vocabSize, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2,
      num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 128, rms_norm_eps: 1e-6, tie_word_embeddings: true,
    }, { seed: 2 });
    const lora = LoraModel.attach(model, { r: 4, lora_alpha: 8, lora_dropout: 0.1 }, { seed: 1 });
    const base = new DeepSeekPolicy(model, tok, { chatTemplate: false });
    const policy = new LoraPolicy(base, lora) as unknown as Policy;
    const before = new Map([...model.namedParameters()].map(([k, v]) => [k, v.dataSync().slice()]));
    const dataset = [['1+2=?', '3'], ['3+4=?', '7'], ['2+2=?', '4']].map(([p, answer]) => ({ prompt: tok.encode(p), answer }));
    const trainer = new GrpoTrainer({
      policy, dataset, numGenerations: 4, promptsPerStep: 2, maxCompletionLength: 4, beta: 0.1, learningRate: 0.05, seed: 0, quiet: true,
      // A reward with variance in every group, so each step has a gradient.
      rewardFunctions: [(c: string) => c.length / 4 + (c.includes('3') ? 1 : 0)],
    });
    // The reference is the base model: equal to adapters-off log-probs of the same model.
    const batch = { promptIds: [tok.encode('1+2=?')], completionIds: [tok.encode('34')], width: 2 };
    const ref = trainer.reference!;
    expect(ref.trainableVariables()).toEqual([]);

    const counts: number[] = [];
    for (let s = 0; s < 4; s++) {
      const { metrics } = await trainer.step();
      expect(metrics.skipped).toBe(0);
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts.slice(1)).size, `numTensors per step: ${counts}`).toBe(1);
    for (const [k, v] of model.namedParameters()) expect(v.dataSync(), k).toEqual(before.get(k));
    expect(lora.layers.every((l) => l.loraB.dataSync().some((x) => x !== 0))).toBe(true);

    // After training the adapted policy differs from the reference, which still equals the plain base.
    const lpRef = lora.evalMode(() => ref.logProbs(batch).dataSync());
    const lpPolicy = lora.evalMode(() => policy.logProbs(batch).dataSync());
    lora.dispose(); // detached: the model is the base again
    const lpBase = base.logProbs(batch).dataSync();
    expect(Array.from(lpRef)).toEqual(Array.from(lpBase));
    expect(Array.from(lpPolicy)).not.toEqual(Array.from(lpBase));
    trainer.dispose();
    model.dispose();
  });
});
