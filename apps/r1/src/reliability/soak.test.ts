// The serving soak of issue #11 in short mode (8 streaming clients × 8 s) inside `npm test`: no
// failed request, the tensor count back to where it started, RSS bounded, and fast clients' time to
// first token not stalled by clients that read slowly. `soak.ts` runs the full 32 × 60 s version.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@r1-ts/tensor-kernels';
import { formatSoak, runSoak } from './soak';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

describe('r1 serve under load (short soak)', () => {
  it('8 streaming clients × 8 s: 0 errors, flat tensors, bounded RSS, slow clients isolated', async () => {
    const r = await runSoak({ seconds: 8, clients: 8, slowFraction: 0.25, maxTokens: 24 });
    console.log(formatSoak(r).join('\n'));
    expect(r.errorSamples).toEqual([]);
    expect(r.errors).toBe(0);
    expect(r.requests).toBeGreaterThan(16); // every client completed more than one request per half
    expect(r.tensors.end).toBe(r.tensors.start);
    expect(r.rssMb.max - r.rssMb.warm).toBeLessThan(256);
    // Both phases produced fast-client requests, and slow readers did not stall them.
    expect(r.ttftFast.n).toBeGreaterThan(0);
    expect(r.ttftFastWithSlow.n).toBeGreaterThan(0);
    expect(r.ttftFastWithSlow.p50).toBeLessThan(2 * r.ttftFast.p50 + 100);
    expect(r.failures).toEqual([]);
  });
});
