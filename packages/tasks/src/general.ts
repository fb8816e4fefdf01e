import { TaskConfigError } from './errors.js';
import { syntheticFacts, type SyntheticFact } from './facts.js';
import type { TaskRng } from './rng.js';
import type { TaskGenerator, TaskSample } from './sample.js';
import { checkOptionKeys } from './options.js';

/**
 * Kinds of general (non-reasoning) prompts.
 *
 * @example
 * ```ts
 * import type { GeneralKind } from '@r1-ts/tasks';
 * const kinds: GeneralKind[] = ['greeting', 'echo', 'uppercase', 'facts'];
 * ```
 */
export type GeneralKind = 'greeting' | 'echo' | 'uppercase' | 'facts';

/**
 * Options of {@link generalTask}.
 *
 * @example
 * ```ts
 * import type { GeneralOptions } from '@r1-ts/tasks';
 * const opts: GeneralOptions = { kinds: ['echo', 'facts'], factSeed: 1, factCount: 8 };
 * ```
 */
export interface GeneralOptions {
  /** Kinds drawn uniformly (default all four). */
  kinds?: GeneralKind[];
  /** Seed of the synthetic fact table (default 0). */
  factSeed?: number;
  /** Rows of the fact table (default 16). */
  factCount?: number;
}

const GREETINGS = ['Hi', 'Hello', 'Hey', 'Good morning', 'Good evening'];
/** Words of echo and uppercase phrases. */
export const GENERAL_WORDS = ['cat', 'sun', 'red', 'tree', 'blue', 'map', 'fox', 'rain', 'box', 'song', 'milk', 'door'];
const ALL_KINDS: GeneralKind[] = ['greeting', 'echo', 'uppercase', 'facts'];

/**
 * General prompt/response pairs for the SFT mix of R1's stages 3 and 4 (R1 §2.3.3: non-reasoning
 * data): greetings, echo (`Repeat: red fox` → `red fox`), uppercase (`Uppercase: red fox` →
 * `RED FOX`) and Q&A on a {@link syntheticFacts} table (`What color is the zib?` → `The zib is blue.`).
 * Responses are plain text, without `<think>`; `completion` returns the answer as is.
 *
 * @param options - `kinds`: which prompt kinds to draw (default all); `factSeed` and `factCount`: the made-up fact table the fact questions ask about.
 *
 * @example
 * ```ts
 * import { generalTask, TaskRng } from '@r1-ts/tasks';
 * const gen = generalTask({ kinds: ['facts'] });
 * const s = gen.sample(new TaskRng(2));
 * console.log(s.prompt, '→', gen.completion(s));
 * ```
 */
export function generalTask(options: GeneralOptions = {}): TaskGenerator {
  checkOptionKeys('generalTask', options, { kinds: true, factSeed: true, factCount: true });
  const kinds = options.kinds ?? ALL_KINDS;
  if (!Array.isArray(kinds) || kinds.length === 0 || kinds.some((k) => !ALL_KINDS.includes(k))) {
    throw new TaskConfigError(`kinds must be a non-empty array of ${ALL_KINDS.join(', ')}, got ${JSON.stringify(kinds)}`, ['kinds']);
  }
  const facts = syntheticFacts({ seed: options.factSeed ?? 0, size: options.factCount ?? 16 });
  return {
    task: 'general',
    difficulty: 1,
    sample(rng) {
      const kind = rng.pick(kinds);
      const { prompt, answer } = makeGeneral(kind, rng, facts);
      return { id: `general:${prompt}`, task: `general/${kind}`, prompt, answer, language: 'en', difficulty: 1, meta: { kind } };
    },
    key: (sample) => sample.prompt,
    completion: (sample) => sample.answer,
  };
}

/** Draws one prompt and its reference response. */
export function makeGeneral(kind: GeneralKind, rng: TaskRng, facts: SyntheticFact[]): { prompt: string; answer: string } {
  if (kind === 'greeting') {
    const g = rng.pick(GREETINGS);
    return { prompt: `${g}!`, answer: `${g}! How can I help you?` };
  }
  const phrase = Array.from({ length: rng.int(1, 3) }, () => rng.pick(GENERAL_WORDS)).join(' ');
  if (kind === 'echo') return { prompt: `Repeat: ${phrase}`, answer: phrase };
  if (kind === 'uppercase') return { prompt: `Uppercase: ${phrase}`, answer: phrase.toUpperCase() };
  const f = rng.pick(facts);
  const q = rng.int(0, 2);
  if (q === 0) return { prompt: `What color is the ${f.name}?`, answer: `The ${f.name} is ${f.color}.` };
  if (q === 1) return { prompt: `Where does the ${f.name} live?`, answer: `The ${f.name} lives in ${f.home}.` };
  return { prompt: `How many legs does the ${f.name} have?`, answer: `The ${f.name} has ${f.legs} ${f.legs === 1 ? 'leg' : 'legs'}.` };
}
