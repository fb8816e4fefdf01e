import { checkInt } from './errors.js';
import { TaskRng } from './rng.js';
import { checkOptionKeys } from './options.js';

/**
 * One row of the synthetic fact table: a made-up creature and its attributes.
 *
 * @example
 * ```ts
 * import type { SyntheticFact } from '@r1-ts/tasks';
 * const f: SyntheticFact = { name: 'zib', color: 'blue', home: 'the hills', legs: 4 };
 * ```
 */
export interface SyntheticFact {
  name: string;
  color: string;
  home: string;
  legs: number;
}

/** Colors a fact may have. */
export const FACT_COLORS = ['red', 'blue', 'green', 'black', 'white', 'gray'] as const;
/** Homes a fact may have. */
export const FACT_HOMES = ['the hills', 'the sea', 'the woods', 'the town', 'the caves'] as const;

const CONSONANTS = 'bdfgklmnprstvz';
const VOWELS = 'aeiou';

/**
 * A deterministic table of made-up facts (`the zib is blue, lives in the hills, has 4 legs`), so
 * general Q&A has answers no pretrained knowledge can supply; the same seed gives the same table.
 * Names are unique lowercase consonant–vowel words.
 *
 * @param options - `seed` (default 0) and `size`: number of facts (1–2000, default 16).
 *
 * @example
 * ```ts
 * import { syntheticFacts } from '@r1-ts/tasks';
 * const facts = syntheticFacts({ seed: 0, size: 8 });
 * console.log(`The ${facts[0].name} is ${facts[0].color}.`);
 * ```
 */
export function syntheticFacts(options: { seed?: number; size?: number } = {}): SyntheticFact[] {
  checkOptionKeys('syntheticFacts', options, { seed: true, size: true });
  const size = checkInt('size', options.size ?? 16, 1, 2000);
  const rng = new TaskRng(options.seed ?? 0);
  const seen = new Set<string>();
  const facts: SyntheticFact[] = [];
  while (facts.length < size) {
    const syllables = rng.int(1, 2);
    let name = '';
    for (let i = 0; i < syllables; i++) name += rng.pick([...CONSONANTS]) + rng.pick([...VOWELS]);
    name += rng.pick([...CONSONANTS]);
    if (seen.has(name)) continue;
    seen.add(name);
    facts.push({ name, color: rng.pick(FACT_COLORS), home: rng.pick(FACT_HOMES), legs: rng.int(0, 8) });
  }
  return facts;
}
