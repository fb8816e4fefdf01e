// Checkpoints written by transformers' save_pretrained, with transformers' own logits
// (test/fixtures/hf/make_fixtures.py): loadPretrained must reproduce them.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@r1-ts/tensor-kernels';
import { loadPretrained } from './load';

const root = resolve(__dirname, '../../../../test/fixtures/hf');
const cases = existsSync(root) ? readdirSync(root).filter((d) => existsSync(join(root, d, 'expected.json'))) : [];

beforeAll(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

describe('checkpoints written by transformers', () => {
  it('are present', () => expect(cases.length).toBeGreaterThanOrEqual(2));

  it.each(cases)('%s: loadPretrained reproduces transformers\' logits on a left-padded batch', (name) => {
    const dir = join(root, name);
    const want = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
    const { model, skipped } = loadPretrained(dir, { tokenizer: false });
    expect(skipped).toEqual([]);
    const got = tf.tidy(() =>
      model.forward(tf.tensor2d(want.input_ids, undefined, 'int32'), { keyMask: tf.tensor2d(want.attention_mask), positions: want.position_ids }).logits.arraySync(),
    );
    let num = 0;
    let den = 0;
    want.logits.forEach((row: number[][], b: number) =>
      row.forEach((ref, t) => {
        if (!want.attention_mask[b][t]) return; // padding queries: implementation-defined
        ref.forEach((v, i) => {
          num += (got[b][t][i] - v) ** 2;
          den += v * v;
        });
      }),
    );
    expect(Math.sqrt(num / den)).toBeLessThan(1e-5);
    model.dispose();
  });
});
