import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, initBackend } from '@r1-ts/tensor-kernels';
import { CHECKPOINT_MANIFEST, loadCheckpoint, saveCheckpoint, verifyCheckpoint } from './checkpoint';
import { DeepSeekModel } from './model';
import { presets } from './config';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
});

const fresh = () => join(mkdtempSync(join(tmpdir(), 'ckpt-test-')), 'c');

describe('saveCheckpoint / verifyCheckpoint', () => {
  it('writes a sha256 manifest of every file last, and returns it', () => {
    const dir = fresh();
    const written: string[] = [];
    const sums = saveCheckpoint(dir, new DeepSeekModel(presets.tiny, { seed: 1 }), null, {
      files: { 'trainer.json': '{"step":3}' }, onFileWritten: (n) => written.push(n),
    });
    expect(written).toEqual(['model.safetensors', 'config.json', 'trainer.json']);
    expect(Object.keys(sums).sort()).toEqual(['config.json', 'model.safetensors', 'trainer.json']);
    for (const [name, want] of Object.entries(sums)) {
      expect(createHash('sha256').update(readFileSync(join(dir, name))).digest('hex')).toBe(want);
    }
    expect(JSON.parse(readFileSync(join(dir, CHECKPOINT_MANIFEST), 'utf8')).files).toEqual(sums);
    expect(verifyCheckpoint(dir)).toEqual(sums);
    expect(readdirSync(join(dir, '..'))).toEqual(['c']); // no temporary directory left
  });

  it('keeps the non-trainable MoE correction bias bit for bit', () => {
    const model = new DeepSeekModel(presets.tiny, { seed: 2 });
    const name = [...model.namedParameters().keys()].find((k) => k.endsWith('e_score_correction_bias'))!;
    expect(name).toBeDefined();
    model.updateMoeBiases([{ layer: 1, expertLoad: [9, 0, 3, 1, 0, 0, 7, 2] }], 0.37);
    const before = Array.from(model.namedParameters().get(name)!.dataSync());
    expect(before.some((v) => v !== 0)).toBe(true);
    const dir = fresh();
    saveCheckpoint(dir, model);
    const { model: back } = loadCheckpoint(dir);
    expect(Array.from(back.namedParameters().get(name)!.dataSync())).toEqual(before);
    model.dispose();
    back.dispose();
  });

  it('a corrupted or truncated file is a CheckpointError naming it, on load and on verify', () => {
    const dir = fresh();
    saveCheckpoint(dir, new DeepSeekModel(presets.tiny, { seed: 3 }));
    const file = join(dir, 'model.safetensors');
    const bytes = readFileSync(file);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 3] ^= 1; // same size, still a valid safetensors file
    writeFileSync(file, flipped);
    expect(() => loadCheckpoint(dir)).toThrow(CheckpointError);
    expect(() => loadCheckpoint(dir)).toThrow(`${file}: checksum mismatch`);
    writeFileSync(file, bytes.subarray(0, 100));
    expect(() => verifyCheckpoint(dir)).toThrow(`${file}: checksum mismatch`);
    writeFileSync(file, bytes);
    expect(() => verifyCheckpoint(dir, { expected: { 'model.safetensors': '0'.repeat(64) } })).toThrow(/model\.safetensors: checksum .* differs from the recorded/);
    expect(existsSync(join(dir, CHECKPOINT_MANIFEST))).toBe(true);
    writeFileSync(join(dir, CHECKPOINT_MANIFEST), '{');
    expect(() => verifyCheckpoint(dir)).toThrow(/checksums\.json: not a valid manifest/);
  });
});
