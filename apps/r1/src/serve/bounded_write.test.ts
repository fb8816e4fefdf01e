import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { boundedWriter } from './bounded_write';

/** A reader that never reads: the stream accepts writes but never hands them on. */
const stalled = () => new Writable({ highWaterMark: 16, write() {} });

describe('boundedWriter', () => {
  it('drops a reader more than maxBytes behind, once, and ignores later writes', () => {
    const res = stalled();
    let drops = 0;
    const send = boundedWriter(res, 100, () => drops++);
    for (let i = 0; i < 3; i++) expect(send('x'.repeat(30))).toBe(true); // 90 bytes pending: kept
    expect(res.destroyed).toBe(false);
    expect(send('x'.repeat(30))).toBe(true); // 120 > 100: dropped
    expect(res.destroyed).toBe(true);
    expect(send('more')).toBe(false);
    expect(drops).toBe(1);
  });

  it('never drops a reader that keeps up, however much passes through', async () => {
    const seen: number[] = [];
    const res = new Writable({ highWaterMark: 16, write(chunk: Buffer, _e, cb) { seen.push(chunk.length); cb(); } });
    let drops = 0;
    const send = boundedWriter(res, 64, () => drops++);
    for (let i = 0; i < 1000; i++) send('y'.repeat(50));
    await new Promise((r) => setImmediate(r));
    expect(drops).toBe(0);
    expect(res.destroyed).toBe(false);
    expect(seen.reduce((a, b) => a + b, 0)).toBe(50_000);
  });
});
