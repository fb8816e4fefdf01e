import { GrpoTrainer } from '@r1-ts/grpo';
import type { GrpoTrainerOptions, PromptSample } from '@r1-ts/grpo';
import { gspoDefaults } from './objective';

/**
 * {@link GrpoTrainer} with GSPO's objective and defaults ({@link gspoDefaults}): same options, same
 * metrics; anything you pass overrides a default (e.g. `importanceSampling: 'sequence_token'`).
 * Equivalent to `new GrpoTrainer({ ...options, importanceSampling: 'sequence', epsilonLow: 3e-4,
 * epsilonHigh: 4e-4, beta: 0, lossType: 'grpo' })`.
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
  constructor(options: GrpoTrainerOptions<S>) {
    // An option passed as undefined keeps the GSPO default.
    const set = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    super({ ...gspoDefaults, ...set } as GrpoTrainerOptions<S>);
  }
}
