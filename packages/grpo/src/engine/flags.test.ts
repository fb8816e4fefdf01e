import { describe, expect, it } from 'vitest';
import { ConfigError } from '@r1-ts/tensor-kernels';
import { parseEngineFlags } from './flags';

describe('parseEngineFlags', () => {
  it('parses URLs, sync, staleness and defaults', () => {
    expect(parseEngineFlags({ engine: 'http://a:8000, http://b:8001' }, { lora: false })).toEqual({
      urls: ['http://a:8000', 'http://b:8001'], sync: 'disk', maxStaleness: 0, api: 'openai', timeoutMs: 120_000, model: null,
    });
    expect(parseEngineFlags({ engine: 'http://a:8000', maxStaleness: '2', engineApi: 'sglang', engineModel: 'q' }, { lora: true }))
      .toMatchObject({ sync: 'lora', maxStaleness: 2, api: 'sglang', model: 'q' });
  });

  it.each([
    [{ engine: '' }, /--engine must list/],
    [{ engine: 'localhost:8000' }, /not an http\(s\) URL/],
    [{ engine: 'http://a', sync: 'nccl' }, /--sync must be 'lora' or 'disk'/],
    [{ engine: 'http://a', sync: 'lora' }, /--sync lora needs a LoRA run/],
    [{ engine: 'http://a', maxStaleness: '-1' }, /--max-staleness must be an integer ≥ 0/],
    [{ engine: 'http://a', engineApi: 'tgi' }, /--engine-api/],
  ])('rejects %j', (flags, message) => {
    expect(() => parseEngineFlags(flags, { lora: false })).toThrow(ConfigError);
    expect(() => parseEngineFlags(flags, { lora: false })).toThrow(message);
  });
});
