import { closeSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError } from './errors';

/**
 * Element types this reader and writer understand.
 *
 * @example
 * ```ts
 * import { serializeSafetensors, parseSafetensors, type SafetensorsDtype } from '@r1-ts/tensor-kernels';
 * const dtype: SafetensorsDtype = 'BF16';
 * const bytes = serializeSafetensors({ w: { dtype, shape: [2], data: [0.5, -1] } });
 * console.log(parseSafetensors(bytes).tensors.get('w')?.dtype); // 'BF16'
 * ```
 */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64' | 'F64' | 'F8_E4M3';

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, F64: 8, F8_E4M3: 1 };
/** Headers larger than this are refused (the reference implementation uses the same 100 MB bound). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/**
 * One tensor as stored: its dtype, shape and decoded values (F16/BF16/F64 widen to float32, I64 narrows to int32).
 *
 * @example
 * ```ts
 * import { toTensor, type StoredTensor } from '@r1-ts/tensor-kernels';
 * const stored: StoredTensor = { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) };
 * console.log(toTensor(stored).shape); // [2, 2]
 * ```
 */
export interface StoredTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** float32 values for float dtypes; int32 values for integer dtypes. */
  data: Float32Array | Int32Array;
}

/**
 * A parsed safetensors file.
 *
 * @example
 * ```ts
 * import { readSafetensors, type SafetensorsFile } from '@r1-ts/tensor-kernels';
 * const file: SafetensorsFile = readSafetensors('test/fixtures/golden/kernels.safetensors');
 * for (const [name, t] of file.tensors) console.log(name, t.dtype, t.shape);
 * ```
 */
export interface SafetensorsFile {
  /** The `__metadata__` string map (empty when absent). */
  metadata: Record<string, string>;
  /** Tensors in header order. */
  tensors: Map<string, StoredTensor>;
}

/**
 * Parses safetensors bytes. Every header field is bounds-checked before anything is allocated, so a
 * corrupt or hostile file gives a {@link CheckpointError} naming the problem, never a crash.
 *
 * @param bytes - the whole file
 * @param source - a name for error messages (the path)
 * @example
 * ```ts
 * import { parseSafetensors, serializeSafetensors } from '@r1-ts/tensor-kernels';
 * const bytes = serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } });
 * console.log(parseSafetensors(bytes).tensors.get('w')?.data); // Float32Array [1, 2]
 * ```
 */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors data'): SafetensorsFile {
  const fail = (why: string): never => {
    throw new CheckpointError(`${source}: ${why}`);
  };
  const { metadata, layout, dataStart } = parseHeader(bytes, bytes.byteLength, fail);
  const tensors = new Map<string, StoredTensor>();
  for (const { name, dtype, shape, begin, end } of layout) {
    // Copy the slice: a Buffer from readFileSync may sit at an unaligned offset in its pool.
    const slice = Uint8Array.prototype.slice.call(bytes, dataStart + begin, dataStart + end);
    tensors.set(name, { dtype, shape, data: decode(slice, dtype, name, fail) });
  }
  return { metadata, tensors };
}

/**
 * Validates the header at the start of `bytes` (at least the 8-byte length and the header) for a file
 * of `fileBytes` bytes, and returns the tensors' layout.
 */
function parseHeader(bytes: Uint8Array, fileBytes: number, fail: (why: string) => never) {
  if (fileBytes < 8) fail(`file is ${fileBytes} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(fileBytes - 8)) {
    fail(`header length ${headerLen} runs past the end of the file (${fileBytes} bytes)`);
  }
  if (headerLen > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(headerLen);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = fileBytes - dataStart;
  const entries = Object.entries(header as Record<string, unknown>);

  const metadata: Record<string, string> = {};
  const layout: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of entries) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} must be a string, got ${typeof v}`);
        metadata[k] = v as string;
      }
      continue;
    }
    if (typeof raw !== 'object' || raw === null) fail(`tensor "${name}": entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in BYTES)) {
      fail(`tensor "${name}": dtype ${JSON.stringify(dtype)} is not one of ${Object.keys(BYTES).join(', ')}`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}": shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (
      !Array.isArray(offsets) || offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]
    ) {
      fail(`tensor "${name}": data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as number[];
    if (end > dataLen) fail(`tensor "${name}": data_offsets [${begin}, ${end}] run past the data section (${dataLen} bytes)`);
    // The element count is bounded by the byte range, so a huge shape cannot force a huge allocation.
    let numel = 1;
    for (const d of shape as number[]) numel *= d;
    const expected = numel * BYTES[dtype as SafetensorsDtype];
    if (expected !== end - begin) {
      fail(`tensor "${name}": shape ${JSON.stringify(shape)} × ${dtype} needs ${expected} bytes, data_offsets span ${end - begin}`);
    }
    layout.push({ name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end });
  }
  const sorted = [...layout].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) fail(`tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap`);
  }
  return { metadata, layout, dataStart };
}

function decode(
  b: Uint8Array, dtype: SafetensorsDtype, name: string, fail: (why: string) => never,
): Float32Array | Int32Array {
  const buf = b.buffer;
  switch (dtype) {
    case 'F32':
      return new Float32Array(buf);
    case 'I32':
      return new Int32Array(buf);
    case 'F64':
      return Float32Array.from(new Float64Array(buf));
    case 'F16':
      return Float32Array.from(new Uint16Array(buf), halfToFloat);
    case 'BF16': {
      const src = new Uint16Array(buf);
      const out = new Uint32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = src[i] << 16;
      return new Float32Array(out.buffer);
    }
    case 'F8_E4M3': {
      const src = new Uint8Array(buf);
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = E4M3[src[i]];
      return out;
    }
    case 'I64': {
      const src = new BigInt64Array(buf);
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i];
        if (v > 2147483647n || v < -2147483648n) fail(`tensor "${name}": I64 value ${v} does not fit in int32`);
        out[i] = Number(v);
      }
      return out;
    }
  }
}

// float8 e4m3fn (DeepSeek-V3's FP8 weights): bias 7, no infinities, 0x7f / 0xff are NaN.
const E4M3 = Float32Array.from({ length: 256 }, (_, b) => {
  const sign = b & 0x80 ? -1 : 1;
  const exp = (b >> 3) & 0xf;
  const mant = b & 7;
  if (exp === 0xf && mant === 7) return NaN;
  return exp === 0 ? sign * 2 ** -6 * (mant / 8) : sign * 2 ** (exp - 7) * (1 + mant / 8);
});

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let frac = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (frac ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    frac |= 0x800000;
    const shift = 14 - e;
    const half = frac >> shift;
    const rem = frac & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rem > mid || (rem === mid && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (frac >> 13);
  const rem = frac & 0x1fff;
  return sign | (half + (rem > 0x1000 || (rem === 0x1000 && half & 1) ? 1 : 0));
}

/**
 * Reads a safetensors file from disk (see {@link parseSafetensors}). The header is checked before the
 * data is read; `onBytes`, when given, sees the whole file's bytes once read (e.g. to checksum them
 * without reading the file again).
 *
 * @param path - The `.safetensors` file.
 * @param onBytes - Called once with the whole file's bytes after they are read (e.g. to checksum them without a second read).
 *
 * @example
 * ```ts
 * import { readSafetensors } from '@r1-ts/tensor-kernels';
 * const file = readSafetensors('test/fixtures/golden/kernels.safetensors');
 * console.log(file.metadata.case); // 'kernels'
 * ```
 */
export function readSafetensors(path: string, onBytes?: (bytes: Uint8Array) => void): SafetensorsFile {
  let bytes: Buffer;
  let fd: number | null = null;
  try {
    // The header first: a hostile or truncated file is rejected before its data is read.
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, 8));
    readSync(fd, head, 0, head.length, 0);
    const fail = (why: string): never => {
      throw new CheckpointError(`${path}: ${why}`);
    };
    const headerLen = size >= 8 ? head.readBigUInt64LE(0) : 0n;
    const header = Buffer.alloc(headerLen <= BigInt(Math.min(Math.max(size - 8, 0), MAX_HEADER_BYTES)) ? Number(headerLen) : 0);
    readSync(fd, header, 0, header.length, 8);
    parseHeader(Buffer.concat([head, header]), size, fail);
    bytes = readFileSync(fd);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`${path}: cannot read (${(e as Error).message})`);
  } finally {
    if (fd !== null) closeSync(fd);
  }
  onBytes?.(bytes);
  return parseSafetensors(bytes, path);
}

/**
 * A tensor to write: a tfjs tensor, or raw values with their shape.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { serializeSafetensors, type TensorToWrite } from '@r1-ts/tensor-kernels';
 * const tensors: Record<string, TensorToWrite> = {
 *   weight: tf.ones([2, 3]),
 *   step: { dtype: 'I32', shape: [1], data: [100] },
 * };
 * console.log(serializeSafetensors(tensors).byteLength > 0); // true
 * ```
 */
/**
 * One tensor's entry in a safetensors header: dtype, shape and its byte range in the data section.
 *
 * @example
 * ```ts
 * // no-run: reads a checkpoint directory
 * import { openSafetensors, type SafetensorsEntry } from '@r1-ts/tensor-kernels';
 * const file = openSafetensors('model.safetensors');
 * const entries: SafetensorsEntry[] = [...file.entries.values()];
 * file.close();
 * ```
 */
export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte offsets in the data section, [begin, end). */
  begin: number;
  end: number;
}

/**
 * A safetensors file opened by its header only (validated as {@link readSafetensors} does); tensors
 * are read one at a time by offset, so a large checkpoint never sits in memory whole.
 *
 * @example
 * ```ts
 * // no-run: reads a checkpoint directory
 * import { openSafetensors } from '@r1-ts/tensor-kernels';
 * const file = openSafetensors('model-00001-of-00002.safetensors');
 * try {
 *   for (const name of file.entries.keys()) console.log(name, file.read(name).shape);
 * } finally {
 *   file.close();
 * }
 * ```
 */
export interface OpenSafetensors {
  path: string;
  metadata: Record<string, string>;
  /** Entries in header order. */
  entries: Map<string, SafetensorsEntry>;
  /** Reads and decodes one tensor (float dtypes to float32, integers to int32). */
  read(name: string): StoredTensor;
  close(): void;
}

/**
 * Opens a safetensors file: reads and checks its header, keeps the descriptor for {@link OpenSafetensors.read}.
 *
 * @param path - The `.safetensors` file; it stays open until `close()`.
 *
 * @example
 * ```ts
 * // no-run: reads a checkpoint file
 * import { openSafetensors } from '@r1-ts/tensor-kernels';
 * const file = openSafetensors('model.safetensors');
 * const embed = file.read('model.embed_tokens.weight'); // only this tensor's bytes are read
 * file.close();
 * ```
 */
export function openSafetensors(path: string): OpenSafetensors {
  const fail = (why: string): never => {
    throw new CheckpointError(`${path}: ${why}`);
  };
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, 8));
    readSync(fd, head, 0, head.length, 0);
    const headerLen = size >= 8 ? head.readBigUInt64LE(0) : 0n;
    const header = Buffer.alloc(headerLen <= BigInt(Math.min(Math.max(size - 8, 0), MAX_HEADER_BYTES)) ? Number(headerLen) : 0);
    readSync(fd, header, 0, header.length, 8);
    const { metadata, layout, dataStart } = parseHeader(Buffer.concat([head, header]), size, fail);
    const entries = new Map(layout.map((e) => [e.name, e]));
    const handle = fd;
    return {
      path,
      metadata,
      entries,
      read(name: string): StoredTensor {
        const e = entries.get(name) ?? fail(`no tensor "${name}"`);
        const bytes = new Uint8Array(e.end - e.begin); // its own aligned buffer
        const got = readSync(handle, bytes, 0, bytes.length, dataStart + e.begin);
        if (got !== bytes.length) fail(`tensor "${name}": read ${got} of ${bytes.length} bytes`);
        return { dtype: e.dtype, shape: e.shape, data: decode(bytes, e.dtype, name, fail) };
      },
      close: () => closeSync(handle),
    };
  } catch (e) {
    if (fd !== null) closeSync(fd);
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`${path}: cannot read (${(e as Error).message})`);
  }
}

/**
 * One tensor to write: a tfjs tensor, or raw values with their dtype and shape (e.g. bf16 data).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { serializeSafetensors, type TensorToWrite } from '@r1-ts/tensor-kernels';
 * const tensors: Record<string, TensorToWrite> = { w: tf.ones([2, 2]), step: { dtype: 'I32', shape: [], data: [3] } };
 * const bytes = serializeSafetensors(tensors);
 * ```
 */
export type TensorToWrite =
  | tf.Tensor
  | { dtype: SafetensorsDtype; shape: number[]; data: Float32Array | Int32Array | ArrayLike<number> };

/**
 * Options of {@link serializeSafetensors}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { parseSafetensors, serializeSafetensors, type SerializeOptions } from '@r1-ts/tensor-kernels';
 * const half: SerializeOptions = { floatDtype: 'F16' };
 * const bytes = serializeSafetensors({ w: tf.tensor([1, 2]) }, {}, half);
 * console.log(parseSafetensors(bytes).tensors.get('w')?.dtype); // 'F16'
 * ```
 */
export interface SerializeOptions {
  /** Store float32 tensors as this dtype (default F32). */
  floatDtype?: 'F32' | 'F16' | 'BF16';
}

/**
 * Encodes tensors (sorted by name, as the reference writer does) and metadata as safetensors bytes.
 *
 * @param tensors - Tensors by name: tfjs tensors or `{ dtype, shape, data }` records.
 * @param metadata - The header's `__metadata__` strings. Default none.
 * @param options - `floatDtype`: store float32 tensors as `F32` (default), `F16` or `BF16`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { serializeSafetensors } from '@r1-ts/tensor-kernels';
 * const bytes = serializeSafetensors({ w: tf.ones([2, 2]) }, { format: 'pt' });
 * console.log(bytes.byteLength > 8); // true
 * ```
 */
export function serializeSafetensors(
  tensors: Record<string, TensorToWrite>,
  metadata: Record<string, string> = {},
  options: SerializeOptions = {},
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const chunks: Uint8Array[] = [];
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    let dtype: SafetensorsDtype;
    let shape: number[];
    let values: ArrayLike<number>;
    if (t instanceof tf.Tensor) {
      if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool') {
        throw new CheckpointError(`tensor "${name}": dtype ${t.dtype} cannot be written to safetensors`);
      }
      dtype = t.dtype === 'float32' ? (options.floatDtype ?? 'F32') : 'I32';
      shape = t.shape;
      values = t.dataSync() as Float32Array | Int32Array;
    } else {
      ({ dtype, shape, data: values } = t);
      if (!(dtype in BYTES)) throw new CheckpointError(`tensor "${name}": unknown dtype ${dtype}`);
    }
    const bytes = encode(values, dtype);
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.byteLength] };
    offset += bytes.byteLength;
    chunks.push(bytes);
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.byteLength;
  for (const c of chunks) {
    out.set(c, p);
    p += c.byteLength;
  }
  return out;
}

function encode(values: ArrayLike<number>, dtype: SafetensorsDtype): Uint8Array {
  const n = values.length;
  switch (dtype) {
    case 'F32':
      return new Uint8Array(Float32Array.from(values).buffer);
    case 'F64':
      return new Uint8Array(Float64Array.from(values).buffer);
    case 'I32':
      return new Uint8Array(Int32Array.from(values).buffer);
    case 'I64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(Math.trunc(values[i]));
      return new Uint8Array(out.buffer);
    }
    case 'F8_E4M3':
      throw new CheckpointError('F8_E4M3 tensors are read (and dequantised) only; write F32 or BF16');
    case 'F16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = floatToHalf(values[i]);
      return new Uint8Array(out.buffer);
    }
    case 'BF16': {
      const src = Float32Array.from(values);
      const bits = new Uint32Array(src.buffer);
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const x = bits[i];
        // Round to nearest even; NaN stays NaN.
        out[i] = (x & 0x7fffffff) > 0x7f800000 ? (x >>> 16) | 0x40 : (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
      }
      return new Uint8Array(out.buffer);
    }
  }
}

/**
 * Writes bytes atomically: a temporary file in the same directory, fsync, then rename. A crash
 * leaves either the old file or the new one, never half of one.
 *
 * @param path - The file to write; its directory must exist.
 * @param bytes - The whole content (a string is written as UTF-8).
 *
 * @example
 * ```ts
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { writeFileAtomic } from '@r1-ts/tensor-kernels';
 * writeFileAtomic(join(mkdtempSync(join(tmpdir(), 'atomic-')), 'hello.txt'), new TextEncoder().encode('hello'));
 * ```
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/**
 * Writes tensors to a safetensors file atomically (see {@link serializeSafetensors}, {@link writeFileAtomic}).
 *
 * @param path - The file to write (replaced atomically).
 * @param tensors - Tensors by name: tfjs tensors or `{ dtype, shape, data }` records.
 * @param metadata - The header's `__metadata__` strings. Default none.
 * @param options - `floatDtype`: store float32 tensors as `F32` (default), `F16` or `BF16`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { writeSafetensors, readSafetensors } from '@r1-ts/tensor-kernels';
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * const path = join(mkdtempSync(join(tmpdir(), 'st-')), 'w.safetensors');
 * writeSafetensors(path, { w: tf.tensor([1, 2, 3]) });
 * console.log(readSafetensors(path).tensors.get('w')?.shape); // [3]
 * ```
 */
export function writeSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite>,
  metadata: Record<string, string> = {},
  options: SerializeOptions = {},
): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata, options));
}

/**
 * Converts a stored tensor to a tfjs tensor (float32 or int32).
 *
 * @param stored - A tensor as read from a safetensors file (float types become float32, integer types int32).
 *
 * @example
 * ```ts
 * import { toTensor } from '@r1-ts/tensor-kernels';
 * const t = toTensor({ dtype: 'I32', shape: [2], data: new Int32Array([4, 5]) });
 * console.log(t.dtype); // 'int32'
 * ```
 */
export function toTensor(stored: StoredTensor): tf.Tensor {
  return tf.tensor(stored.data, stored.shape, stored.data instanceof Int32Array ? 'int32' : 'float32');
}
