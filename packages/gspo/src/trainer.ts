import { GrpoTrainer } from '@r1-ts/grpo';
import type { GrpoTrainerOptions, PromptSample } from '@r1-ts/grpo';
import { gspoDefaults } from './objective';

/**
 * {@link GrpoTrainer} with GSPO's objective and defaults ({@link gspoDefaults}): same options, same
 * metrics, so swapping is one line — the import (`import { GspoTrainer as Trainer } from '@r1-ts/gspo'`
 * in place of `import { GrpoTrainer as Trainer } from '@r1-ts/grpo'`). Equivalent to
 * `new GrpoTrainer({ ...options, importanceSampling: 'sequence', epsilonLow: 3e-4, epsilonHigh: 4e-4,
 * beta: 0, lossType: 'grpo' })`.
 *
 * An option you pass still overrides a GSPO default (e.g. `importanceSampling: 'sequence_token'` for
 * GSPO-token), but never silently: each one that differs from GSPO's value (a GRPO config's `beta: 0.04`
 * or `epsilonLow: 0.2`, say) is reported as a `warning` event and, unless `quiet`, console.warn'd. Like
 * every trainer it prints the resolved objective once (`GSPO (importanceSampling 'sequence'): …`) and
 * reports it as a `resolved` event.
 *
 * @example
 * ```ts
 * import { GspoTrainer } from '@r1-ts/gspo';
 * import type { Policy } from '@r1-ts/grpo';
 * declare const policy: Policy;
 * const trainer = new GspoTrainer({ policy, dataset: [{ prompt: '1+1=' }], rewardFunctions: [(c) => (c.trim() === '2' ? 1 : 0)] });
 * console.log(trainer.options.importanceSampling, trainer.options.epsilonHigh); // 'sequence' 0.0004
 * ```
 */
export class GspoTrainer<S extends PromptSample = PromptSample> extends GrpoTrainer<S> {
  /**
   * @param options - The same options as `GrpoTrainer` (policy, dataset, reward functions, group size, …). Unset fields take GSPO's defaults (`importanceSampling: 'sequence'`, ε_low 3e-4, ε_high 4e-4, β 0, `lossType: 'grpo'`); a field you set that differs from them wins and is reported as a `warning` event.
   */
  constructor(options: GrpoTrainerOptions<S>) {
    // An option passed as undefined keeps the GSPO default.
    const set = Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined)) as Partial<GrpoTrainerOptions<S>>;
    super({ ...gspoDefaults, ...set } as GrpoTrainerOptions<S>);
    for (const [key, gspo] of Object.entries(gspoDefaults)) {
      const yours = set[key as keyof typeof set];
      const gspoToken = key === 'importanceSampling' && yours === 'sequence_token'; // GSPO-token is GSPO
      if (yours !== undefined && yours !== gspo && !gspoToken) {
        this.warn(`GspoTrainer: ${key} ${JSON.stringify(yours)} from your options replaces GSPO's default ${JSON.stringify(gspo)}; `
          + `drop it to train with GSPO's${key === 'beta' ? ' (GSPO uses no KL term)' : ''}`);
      }
    }
  }
}
