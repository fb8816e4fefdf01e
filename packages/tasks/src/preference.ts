import { checkInt, TaskConfigError } from './errors.js';
import { FACT_COLORS, FACT_HOMES, syntheticFacts } from './facts.js';
import { GENERAL_WORDS, makeGeneral, type GeneralKind } from './general.js';
import { TaskRng } from './rng.js';
import { checkOptionKeys } from './options.js';

/**
 * A preference pair for a Bradley–Terry reward model (R1 §2.3.4, stage 4's helpfulness reward):
 * for one prompt, a `chosen` response (correct and helpful) and a `rejected` one, `why` naming the
 * flaw: `wrong` (a false or garbled answer) or `unhelpful` (a refusal or brush-off).
 *
 * @example
 * ```ts
 * import type { PreferencePair } from '@r1-ts/tasks';
 * const p: PreferencePair = { prompt: 'Repeat: fox', chosen: 'fox', rejected: 'No.', kind: 'echo', why: 'unhelpful' };
 * ```
 */
export interface PreferencePair {
  prompt: string;
  chosen: string;
  rejected: string;
  kind: GeneralKind;
  why: 'wrong' | 'unhelpful';
}

/**
 * Options of {@link preferencePairs}.
 *
 * @example
 * ```ts
 * import type { PreferenceOptions } from '@r1-ts/tasks';
 * const opts: PreferenceOptions = { seed: 1, count: 100, kinds: ['facts'] };
 * ```
 */
export interface PreferenceOptions {
  seed: number;
  count: number;
  /** Default all four general kinds. */
  kinds?: GeneralKind[];
  /** Fact table seed and size, as in `generalTask` (defaults 0 and 16). */
  factSeed?: number;
  factCount?: number;
}

const BRUSH_OFFS = ['No.', 'I will not answer that.', 'Ask someone else.', "I don't know."];

/**
 * Generates preference pairs on the general prompts of `generalTask` (same prompts, same fact
 * table for the same `factSeed`): the chosen response is the reference, the rejected one is a wrong
 * answer (a different fact, a garbled echo, an unchanged string) or an unhelpful brush-off.
 * `chosen !== rejected` always.
 *
 * @param options - `seed` and `count` of the pairs; `kinds` of general prompt; `factSeed` and `factCount` of the fact table (the same as `generalTask`'s for the same prompts).
 *
 * @example
 * ```ts
 * import { preferencePairs } from '@r1-ts/tasks';
 * for (const p of preferencePairs({ seed: 0, count: 3 })) console.log(p.prompt, '|', p.chosen, '>', p.rejected);
 * ```
 */
export function preferencePairs(options: PreferenceOptions): PreferencePair[] {
  checkOptionKeys('preferencePairs', options, { seed: true, count: true, kinds: true, factSeed: true, factCount: true });
  const count = checkInt('count', options.count, 0, 10_000_000);
  const kinds = options.kinds ?? (['greeting', 'echo', 'uppercase', 'facts'] as GeneralKind[]);
  if (!Array.isArray(kinds) || kinds.length === 0) throw new TaskConfigError(`kinds must be a non-empty array, got ${JSON.stringify(kinds)}`, ['kinds']);
  const facts = syntheticFacts({ seed: options.factSeed ?? 0, size: options.factCount ?? 16 });
  const rng = new TaskRng(options.seed);
  const pairs: PreferencePair[] = [];
  for (let i = 0; i < count; i++) {
    const kind = rng.pick(kinds);
    const { prompt, answer } = makeGeneral(kind, rng, facts);
    const unhelpful = kind === 'greeting' || rng.chance(1, 3);
    const rejected = unhelpful ? rng.pick(BRUSH_OFFS) : wrongAnswer(kind, prompt, answer, rng);
    pairs.push({ prompt, chosen: answer, rejected, kind, why: unhelpful ? 'unhelpful' : 'wrong' });
  }
  return pairs;
}

function wrongAnswer(kind: GeneralKind, prompt: string, answer: string, rng: TaskRng): string {
  if (kind === 'uppercase') return answer.toLowerCase();
  if (kind === 'echo') {
    const words = answer.split(' ');
    const i = rng.int(0, words.length - 1);
    words[i] = rng.pick(GENERAL_WORDS.filter((w) => w !== words[i]));
    return words.join(' ');
  }
  // facts: the same sentence with a different value
  const swap = (values: readonly string[], current: string): string => rng.pick(values.filter((v) => v !== current));
  const color = /is (\w+)\.$/.exec(answer);
  if (prompt.startsWith('What color') && color) return answer.replace(/is \w+\.$/, `is ${swap(FACT_COLORS, color[1])}.`);
  const home = /lives in (.+)\.$/.exec(answer);
  if (home) return answer.replace(/lives in .+\.$/, `lives in ${swap(FACT_HOMES, home[1])}.`);
  const legs = Number(/has (\d+) legs?\.$/.exec(answer)?.[1]);
  const other = (legs + rng.int(1, 8)) % 9;
  return answer.replace(/has \d+ legs?\.$/, `has ${other} ${other === 1 ? 'leg' : 'legs'}.`);
}
