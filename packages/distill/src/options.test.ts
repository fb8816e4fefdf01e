import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, initBackend } from '@r1-ts/tensor-kernels';
import { OpenAICompatibleTeacher, logitDistillationLoss, rejectionReason, sampleFromTeacher, sftStudent } from './index';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
});

/** The ConfigError a call throws (sync or async), or a failure when it does not throw one. */
async function configError(f: () => unknown): Promise<ConfigError> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('unknown option keys are rejected, not ignored', () => {
  const teacher = { generate: (p: readonly string[]) => p.map(() => ({ text: '<answer>4</answer>', truncated: false })) };
  const prompt = [{ id: 'a', prompt: '2+2?', answer: '4', task: 'arithmetic', difficulty: 1 }];

  it('sampleFromTeacher names the key and the option meant', async () => {
    const e = await configError(() => sampleFromTeacher(teacher, prompt, { samplesPerPrompt: 2 } as never));
    expect(e.fields).toEqual(['samplesPerPrompt']);
    expect(e.message).toMatch(/sampleFromTeacher options: unknown key "samplesPerPrompt" \(did you mean "k"\?\)/);
    // Its own keys, the rejection thresholds included, still pass.
    const ok = await sampleFromTeacher(teacher, prompt, { k: 1, maxParagraphChars: 10, minLanguageConsistency: 0.5 });
    expect(ok.counts.total).toBe(1);
  });

  it('rejectionReason, logitDistillationLoss, OpenAICompatibleTeacher and sftStudent (SftTrainer)', async () => {
    expect((await configError(() => rejectionReason('x', { prompt: 'p', answer: '4' }, true, { maxParagraphLength: 5 } as never))).fields).toEqual(['maxParagraphLength']);
    const z = tf.zeros([1, 1, 2]);
    const m = tf.ones([1, 1]);
    expect((await configError(() => logitDistillationLoss(z, z, m, { tau: 2 } as never))).message).toMatch(/"tau" \(did you mean "temperature"\?\)/);
    expect((await configError(() => logitDistillationLoss(z, z, m, { temperature: 0 }))).fields).toEqual(['temperature']);
    tf.dispose([z, m]);
    expect((await configError(() => new OpenAICompatibleTeacher({ baseUrl: 'http://x', model: 'm' } as never))).message).toMatch(/"baseUrl" \(did you mean "baseURL"\?\)/);
    // SftTrainer checks its options before it touches the model, so no model is needed here.
    const e = await configError(() => sftStudent({} as never, {} as never, [], { steps: 1, learningRate: 1e-3 } as never));
    expect(e.message).toMatch(/SftTrainer options: unknown key "learningRate" \(did you mean "lr"\?\)/);
  });
});
