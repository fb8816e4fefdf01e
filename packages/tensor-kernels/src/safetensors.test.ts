import { mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError } from './errors';
import { initBackend } from './backend/init';
import { parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors } from './safetensors';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
});

/** Builds raw safetensors bytes from a header object and a data section. */
function raw(header: unknown, data = new Uint8Array(0), headerLen?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips F32, I32, I64, F16 and BF16 with metadata', () => {
    const f = new Float32Array([1.5, -2.25, 0, 65504, 1e-3]);
    const bytes = serializeSafetensors(
      {
        a: { dtype: 'F32', shape: [5], data: f },
        b: { dtype: 'I32', shape: [1, 2], data: new Int32Array([7, -8]) },
        c: { dtype: 'I64', shape: [2], data: [123456789, -5] },
        d: { dtype: 'F16', shape: [5], data: f },
        e: { dtype: 'BF16', shape: [5], data: f },
      },
      { format: 'pt' },
    );
    const file = parseSafetensors(bytes);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect([...file.tensors.get('a')!.data]).toEqual([...f]);
    expect([...file.tensors.get('b')!.data]).toEqual([7, -8]);
    expect(file.tensors.get('b')!.shape).toEqual([1, 2]);
    expect([...file.tensors.get('c')!.data]).toEqual([123456789, -5]);
    // F16: exact for these values except 1e-3 (10 mantissa bits); BF16: 8 bits.
    const d = file.tensors.get('d')!.data;
    expect([...d.slice(0, 4)]).toEqual([1.5, -2.25, 0, 65504]);
    expect(Math.abs(d[4] - 1e-3)).toBeLessThan(1e-6);
    const e = file.tensors.get('e')!.data;
    expect([...e.slice(0, 3)]).toEqual([1.5, -2.25, 0]);
    expect(Math.abs(e[4] - 1e-3) / 1e-3).toBeLessThan(1 / 128);
  });

  it('writes tfjs tensors atomically and leaves no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const path = join(dir, 'model.safetensors');
    writeSafetensors(path, { w: tf.tensor2d([[1, 2], [3, 4]]), ids: tf.tensor1d([1, 2], 'int32') });
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    const file = readSafetensors(path);
    expect(file.tensors.get('w')!.shape).toEqual([2, 2]);
    expect(file.tensors.get('ids')!.data).toBeInstanceOf(Int32Array);
  });

  it('hands onBytes the whole file once its header passed, and not at all when it fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const path = join(dir, 'model.safetensors');
    writeSafetensors(path, { w: tf.tensor2d([[1, 2], [3, 4]]) });
    const seen: Uint8Array[] = [];
    readSafetensors(path, (bytes) => seen.push(bytes));
    expect(seen.length).toBe(1);
    expect(Buffer.from(seen[0]).equals(readFileSync(path))).toBe(true);
    writeFileSync(path, raw({}, new Uint8Array(0), 1000)); // header length past the end
    expect(() => readSafetensors(path, (bytes) => seen.push(bytes))).toThrow(/runs past the end of the file/);
    expect(seen.length).toBe(1);
    rmSync(dir, { recursive: true, force: true });
  });

  const bad: [string, Uint8Array, RegExp][] = [
    ['too short', new Uint8Array(4), /too short/],
    ['header length past EOF', raw({}, new Uint8Array(0), 1000), /runs past the end of the file/],
    ['header not JSON', raw('{"a": '), /not valid JSON/],
    ['header not an object', raw('[1,2]'), /not a JSON object/],
    ['unknown dtype', raw({ a: { dtype: 'Q4', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), /dtype "Q4" is not one of/],
    ['offsets out of range', raw({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4)), /run past the data section/],
    ['shape disagrees with offsets', raw({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 4] } }, new Uint8Array(4)), /needs 12 bytes/],
    ['huge shape', raw({ a: { dtype: 'F32', shape: [1e9, 1e9], data_offsets: [0, 4] } }, new Uint8Array(4)), /needs .* bytes/],
    ['negative dimension', raw({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), /non-negative integers/],
    ['overlapping tensors', raw({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [2, 6] } }, new Uint8Array(8)), /overlap/],
    ['bad metadata', raw({ __metadata__: { a: 1 } }), /__metadata__.a must be a string/],
    ['I64 out of int32 range', serializeSafetensors({ a: { dtype: 'I64', shape: [1], data: [2 ** 40] } }), /does not fit in int32/],
  ];
  it.each(bad)('rejects a corrupt file: %s', (_name, bytes, message) => {
    expect(() => parseSafetensors(bytes, 'x.safetensors')).toThrow(CheckpointError);
    expect(() => parseSafetensors(bytes, 'x.safetensors')).toThrow(message);
  });

  it('checks the header before reading the data: a 3 GiB file with a hostile header fails on the header', () => {
    const dir = mkdtempSync(join(tmpdir(), 'r1-st-'));
    const file = join(dir, 'huge.safetensors');
    const header = Buffer.from('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]} oops');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(file, Buffer.concat([len, header]));
    truncateSync(file, 3 * 2 ** 30); // sparse: no disk used, but past what readFileSync accepts
    expect(() => readSafetensors(file)).toThrow(CheckpointError);
    expect(() => readSafetensors(file)).toThrow(/huge\.safetensors: header is not valid JSON/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects a truncated file read from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const path = join(dir, 'cut.safetensors');
    const full = serializeSafetensors({ w: { dtype: 'F32', shape: [100], data: new Float32Array(100) } });
    writeFileSync(path, full.subarray(0, full.length - 10));
    expect(() => readSafetensors(path)).toThrow(/run past the data section/);
  });
});
