// The recipe key `gradient_checkpointing` (TRL's name) of `r1 grpo` / `r1 sft`: validated, handed to
// the model, and allowed to change on --resume (it changes memory, not numbers).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, initBackend } from '@r1-ts/tensor-kernels';
import { checkSameRecipe, openModel } from './train_common';
import { grpoRecipeSchema, parseRecipe, sftRecipeSchema } from './train_recipe';
import { writeTinyLlama } from './testing/tiny_model';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', quiet: true });
});

describe('gradient_checkpointing recipe key', () => {
  it.each([['grpo', grpoRecipeSchema], ['sft', sftRecipeSchema]] as const)('%s: defaults to false, takes a boolean, rejects anything else naming the key', (_n, schema) => {
    expect(parseRecipe(schema, {}, 'recipe.yaml').gradient_checkpointing).toBe(false);
    expect(parseRecipe(schema, { gradient_checkpointing: true }, 'recipe.yaml').gradient_checkpointing).toBe(true);
    const e = (() => { try { parseRecipe(schema, { gradient_checkpointing: 'yes' }, 'recipe.yaml'); } catch (x) { return x as ConfigError; } })();
    expect(e).toBeInstanceOf(ConfigError);
    expect(e!.fields).toEqual(['gradient_checkpointing']);
  });

  it('reaches the loaded model', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'r1-gc-')), 'model');
    writeTinyLlama(dir, 1);
    const on = openModel(dir, { gradientCheckpointing: true }).model;
    const off = openModel(dir).model;
    expect([on.gradientCheckpointing, off.gradientCheckpointing]).toEqual([true, false]);
    on.dispose();
    off.dispose();
  });

  it('may differ on resume, other keys may not', () => {
    const out = mkdtempSync(join(tmpdir(), 'r1-gc-run-'));
    writeFileSync(join(out, 'run.json'), JSON.stringify({ recipe: { seed: 3, gradient_checkpointing: false } }));
    expect(() => checkSameRecipe(out, { seed: 3, gradient_checkpointing: true })).not.toThrow();
    expect(() => checkSameRecipe(out, { seed: 4, gradient_checkpointing: true })).toThrow(/seed/);
  });
});
