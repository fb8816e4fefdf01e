import type { CaseOutputs, Fixture } from './fixture';

/** Result of comparing one fixture with an implementation. */
export interface Comparison {
  pass: boolean;
  /** Largest relative error over the float tensors. */
  maxRelErr: number;
  /** One entry per failing tensor: `name (why)`. */
  failures: string[];
  /** Per-tensor errors, for diagnostics. */
  errors: Map<string, number>;
}

/**
 * Compares every `output.*` and `grad.*` tensor of the fixture with the implementation's values
 * (golden/README.md §2): float tensors by ‖impl − ref‖₂/‖ref‖₂ ≤ rtol, int tensors exactly,
 * `output.index_scores` only where the reference is finite (s ≤ t).
 */
export function compareFixture(fx: Fixture, outputs: CaseOutputs): Comparison {
  const failures: string[] = [];
  const errors = new Map<string, number>();
  let maxRelErr = 0;
  for (const [name, ref] of fx.tensors) {
    if (!name.startsWith('output.') && !name.startsWith('grad.')) continue;
    const impl = outputs.get(name);
    if (!impl) {
      failures.push(`${name} (not computed)`);
      continue;
    }
    if (impl.length !== ref.data.length) {
      failures.push(`${name} (has ${impl.length} values, expected ${ref.data.length})`);
      continue;
    }
    if (ref.data instanceof Int32Array) {
      let bad = 0;
      for (let i = 0; i < impl.length; i++) if (impl[i] !== ref.data[i]) bad++;
      if (bad) failures.push(`${name} (${bad} of ${impl.length} integers differ)`);
      continue;
    }
    let num = 0;
    let den = 0;
    for (let i = 0; i < impl.length; i++) {
      const r = ref.data[i];
      if (!Number.isFinite(r)) continue; // only output.index_scores holds -inf (s > t), not compared
      const d = impl[i] - r;
      num += d * d;
      den += r * r;
    }
    const err = den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    errors.set(name, err);
    if (!(err <= fx.rtol)) failures.push(`${name} (rel err ${err.toExponential(2)})`);
    if (err > maxRelErr || Number.isNaN(err)) maxRelErr = Number.isNaN(err) ? Infinity : err;
  }
  return { pass: failures.length === 0, maxRelErr, failures, errors };
}
