/**
 * Progress events of a recipe run, for progress bars and dashboards.
 *
 * @example
 * ```ts
 * import type { PipelineEvent } from '@r1-ts/pipeline';
 * const log = (e: PipelineEvent) => { if (e.type === 'stage_start') console.log(`stage ${e.stage}`); };
 * ```
 */
export type PipelineEvent =
  | { type: 'stage_start'; stage: string; total: number; done: number }
  | { type: 'progress'; stage: string; step: number; total: number; metrics: Record<string, number> }
  | { type: 'stage_end'; stage: string }
  | { type: 'stage_skipped'; stage: string; reason: string }
  | { type: 'log'; message: string };
