import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeBackend, initBackend } from '@r1-ts/tensor-kernels';
import { checkFixture, formatResult } from './check';
import { loadFixture } from './fixture';
import { goldenCases } from './cases/index';

const dir = resolve(__dirname, '../../../../test/fixtures/golden');
const implemented = new Set<string>();
for (const [name, load] of Object.entries(goldenCases)) if ((await load()).run) implemented.add(name);
const files = readdirSync(dir).filter((f) => f.endsWith('.safetensors')).map((f) => join(dir, f));

// webgpu (lavapipe in CI) when R1_TEST_WEBGPU=1: a missing adapter then fails every case.
const backends = process.env.R1_TEST_WEBGPU === '1' ? (['wasm', 'cpu', 'webgpu'] as const) : (['wasm', 'cpu'] as const);

describe.each(backends)('golden fixtures on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend, quiet: true });
  });
  afterAll(async () => {
    await disposeBackend();
  });
  for (const file of files) {
    const name = loadFixture(file).case;
    if (!implemented.has(name)) {
      it.todo(`${name}: case not implemented yet`);
      continue;
    }
    it(`${name} passes (${file.split('/').pop()})`, async () => {
      const result = await checkFixture(file);
      expect(result.status, formatResult(result)).toBe('PASS');
    });
  }
});
