import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../../../..');

/** Runs a module in a fresh Node process (the banner is printed once per process). */
function run(code: string) {
  return spawnSync(process.execPath, ['--conditions=@r1-ts/source', '--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
}

describe("tfjs's cpu-backend banner", () => {
  const banner = /install our node backend/;
  const touch = "import * as tf from '@tensorflow/tfjs'; IMPORT tf.scalar(1).dispose(); console.log(tf.getBackend());";

  it('is printed by plain tfjs (so the check below can fail)', () => {
    const res = run(touch.replace('IMPORT', ''));
    expect(res.stdout.trim()).toBe('cpu');
    expect(res.stderr + res.stdout).toMatch(banner);
  });

  it('is not printed once @r1-ts/tensor-kernels is imported, even before initBackend', () => {
    const res = run(touch.replace('IMPORT', "await import('@r1-ts/tensor-kernels');"));
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout.trim()).toBe('cpu');
    expect(res.stderr + res.stdout).not.toMatch(banner);
  });
});
