import { afterEach, describe, expect, it, vi } from 'vitest';
import { CheckpointError, ConfigError, OutOfMemoryError } from '@r1-ts/tensor-kernels';
import { EXIT } from './exit';
import { runTrainCommand } from './train_common';

describe("runTrainCommand's exit-code contract", () => {
  afterEach(() => {
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  it.each([
    ['a ConfigError', new ConfigError('learning_rate must be > 0, got -1'), EXIT.config, 'r1 sft: learning_rate must be > 0, got -1'],
    ['a CheckpointError', new CheckpointError('model.safetensors: truncated'), EXIT.failure, 'r1 sft: model.safetensors: truncated'],
    ['an OutOfMemoryError', new OutOfMemoryError('wasm heap exhausted: cannot allocate 622.3 MB'), EXIT.failure, 'r1 sft: wasm heap exhausted: cannot allocate 622.3 MB'],
  ])('%s: its message alone, no stack', async (_, error, code, line) => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    await runTrainCommand('sft', async () => {
      throw error;
    });
    expect(err).toHaveBeenCalledWith(line);
    expect(process.exitCode).toBe(code);
  });

  it('another error: "failed" with its stack, exit 1', async () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    await runTrainCommand('grpo', async () => {
      throw new TypeError('boom');
    });
    expect(String(err.mock.calls[0][0])).toMatch(/^r1 grpo: failed: TypeError: boom\n\s+at /);
    expect(process.exitCode).toBe(EXIT.failure);
  });
});
