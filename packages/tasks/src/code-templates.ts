import type { TaskRng } from './rng.js';

/** One concrete function-writing problem made from a template. */
export interface CodeProblem {
  /** Function name the completion must define. */
  fn: string;
  /** Canonical key: template name and parameters. */
  key: string;
  /** Task statement. */
  prompt: string;
  /** Reference solution (JavaScript source). */
  source: string;
  /** Reference implementation computing expected values. */
  reference: (...args: never[]) => unknown;
  /** Draws one argument list. */
  args: (rng: TaskRng) => unknown[];
  /** Fixed edge-case argument lists always tested. */
  edges: unknown[][];
  /** One-line plan (compact reasoning). */
  plan: string;
  /** Step-by-step plan (explained reasoning). */
  steps: string[];
}

/** A template: a difficulty level and a maker drawing its parameters. */
export interface CodeTemplate {
  name: string;
  level: 1 | 2 | 3;
  make(rng: TaskRng): CodeProblem;
}

const ints = (rng: TaskRng, lo: number, hi: number, minLen = 0, maxLen = 6): number[] =>
  Array.from({ length: rng.int(minLen, maxLen) }, () => rng.int(lo, hi));
const word = (rng: TaskRng, alphabet = 'abcdeiou', maxLen = 8): string =>
  Array.from({ length: rng.int(0, maxLen) }, () => alphabet[rng.int(0, alphabet.length - 1)]).join('');

/** The function-writing templates, by level (≥ 8 in all). */
export const CODE_TEMPLATES: CodeTemplate[] = [
  {
    name: 'sumArray',
    level: 1,
    make: () => ({
      fn: 'sumArray',
      key: 'sumArray',
      prompt: 'Write a JavaScript function sumArray(xs) that returns the sum of the numbers in the array xs (0 if empty).',
      source: 'function sumArray(xs) {\n  let total = 0;\n  for (const x of xs) total += x;\n  return total;\n}',
      reference: (xs: number[]) => xs.reduce((a, b) => a + b, 0),
      args: (rng) => [ints(rng, -50, 50)],
      edges: [[[]], [[7]]],
      plan: 'Start a total at 0, add every element, return the total.',
      steps: ['Start with total = 0.', 'Loop over xs and add each x to total.', 'An empty array gives 0.', 'Return total.'],
    }),
  },
  {
    name: 'maxOfArray',
    level: 1,
    make: () => ({
      fn: 'maxOfArray',
      key: 'maxOfArray',
      prompt: 'Write a JavaScript function maxOfArray(xs) that returns the largest number in the non-empty array xs.',
      source: 'function maxOfArray(xs) {\n  let best = xs[0];\n  for (const x of xs) if (x > best) best = x;\n  return best;\n}',
      reference: (xs: number[]) => Math.max(...xs),
      args: (rng) => [ints(rng, -99, 99, 1)],
      edges: [[[-5]], [[-3, -8, -1]]],
      plan: 'Keep the first element as the best, replace it by any larger element, return it.',
      steps: ['Take best = xs[0].', 'Loop over xs; when x > best set best = x.', 'This works for negative numbers too.', 'Return best.'],
    }),
  },
  {
    name: 'reverseString',
    level: 1,
    make: () => ({
      fn: 'reverseString',
      key: 'reverseString',
      prompt: 'Write a JavaScript function reverseString(s) that returns the string s reversed.',
      source: "function reverseString(s) {\n  let out = '';\n  for (const c of s) out = c + out;\n  return out;\n}",
      reference: (s: string) => [...s].reverse().join(''),
      args: (rng) => [word(rng, 'abcdefgh')],
      edges: [[''], ['a']],
      plan: 'Prepend each character to an output string, return it.',
      steps: ["Start with out = ''.", 'For each character c of s, set out = c + out.', 'Return out.'],
    }),
  },
  {
    name: 'countVowels',
    level: 1,
    make: () => ({
      fn: 'countVowels',
      key: 'countVowels',
      prompt: 'Write a JavaScript function countVowels(s) that returns how many characters of the lowercase string s are vowels (a, e, i, o, u).',
      source: "function countVowels(s) {\n  let n = 0;\n  for (const c of s) if ('aeiou'.includes(c)) n++;\n  return n;\n}",
      reference: (s: string) => [...s].filter((c) => 'aeiou'.includes(c)).length,
      args: (rng) => [word(rng, 'abcdefghijklmnopqrstuvwxyz', 10)],
      edges: [[''], ['xyz']],
      plan: "Count the characters that 'aeiou' includes.",
      steps: ['Start with n = 0.', "For each character c, if 'aeiou' includes c, add 1.", 'Return n.'],
    }),
  },
  {
    name: 'scaleArray',
    level: 1,
    make: (rng) => {
      const k = rng.int(2, 9);
      return {
        fn: 'scaleArray',
        key: `scaleArray:k=${k}`,
        prompt: `Write a JavaScript function scaleArray(xs) that returns a new array with every number of xs multiplied by ${k}.`,
        source: `function scaleArray(xs) {\n  return xs.map((x) => x * ${k});\n}`,
        reference: (xs: number[]) => xs.map((x) => x * k),
        args: (r) => [ints(r, -20, 20)],
        edges: [[[]]],
        plan: `Map every element x to x * ${k}.`,
        steps: [`Use xs.map to build a new array.`, `Each x becomes x * ${k}.`, 'Return the new array; xs is unchanged.'],
      };
    },
  },
  {
    name: 'factorial',
    level: 2,
    make: () => ({
      fn: 'factorial',
      key: 'factorial',
      prompt: 'Write a JavaScript function factorial(n) that returns n! for an integer n from 0 to 15 (0! = 1).',
      source: 'function factorial(n) {\n  let p = 1;\n  for (let i = 2; i <= n; i++) p *= i;\n  return p;\n}',
      reference: (n: number) => {
        let p = 1;
        for (let i = 2; i <= n; i++) p *= i;
        return p;
      },
      args: (rng) => [rng.int(0, 15)],
      edges: [[0], [1]],
      plan: 'Multiply 1 by every integer from 2 to n.',
      steps: ['Start with p = 1, which is also 0! and 1!.', 'For i from 2 to n multiply p by i.', 'Return p.'],
    }),
  },
  {
    name: 'fizzBuzz',
    level: 2,
    make: (rng) => {
      const a = rng.int(2, 5);
      // b is not a multiple of a, so every branch is reachable
      const b = rng.pick([3, 4, 5, 6, 7].filter((v) => v > a && v % a !== 0));
      return {
        fn: 'fizzBuzz',
        key: `fizzBuzz:a=${a},b=${b}`,
        prompt:
          `Write a JavaScript function fizzBuzz(n) that returns 'FizzBuzz' if n is divisible by ${a} and ${b}, ` +
          `'Fizz' if only by ${a}, 'Buzz' if only by ${b}, and otherwise n as a string.`,
        source:
          `function fizzBuzz(n) {\n  if (n % ${a} === 0 && n % ${b} === 0) return 'FizzBuzz';\n` +
          `  if (n % ${a} === 0) return 'Fizz';\n  if (n % ${b} === 0) return 'Buzz';\n  return String(n);\n}`,
        reference: (n: number) => (n % a === 0 && n % b === 0 ? 'FizzBuzz' : n % a === 0 ? 'Fizz' : n % b === 0 ? 'Buzz' : String(n)),
        args: (r) => [r.int(1, 100)],
        edges: [[a * b], [a], [b], [1]],
        plan: `Test divisibility by both ${a} and ${b} first, then ${a}, then ${b}, else String(n).`,
        steps: [
          `If n % ${a} and n % ${b} are both 0, return 'FizzBuzz'; this must come first.`,
          `Else if n % ${a} is 0 return 'Fizz'.`,
          `Else if n % ${b} is 0 return 'Buzz'.`,
          'Otherwise return String(n).',
        ],
      };
    },
  },
  {
    name: 'isPalindrome',
    level: 2,
    make: () => ({
      fn: 'isPalindrome',
      key: 'isPalindrome',
      prompt: 'Write a JavaScript function isPalindrome(s) that returns true if the string s reads the same backwards, else false.',
      source: 'function isPalindrome(s) {\n  for (let i = 0, j = s.length - 1; i < j; i++, j--) if (s[i] !== s[j]) return false;\n  return true;\n}',
      reference: (s: string) => s === [...s].reverse().join(''),
      args: (rng) => {
        const half = word(rng, 'abc', 4);
        return [rng.chance(1, 2) ? half + [...half].reverse().join('') : word(rng, 'abc', 6)];
      },
      edges: [[''], ['aba'], ['ab']],
      plan: 'Compare characters from both ends moving inwards; any mismatch means false.',
      steps: ['Let i start at 0 and j at the last index.', 'While i < j, if s[i] !== s[j] return false; move both inwards.', 'If no mismatch, return true.'],
    }),
  },
  {
    name: 'countChar',
    level: 2,
    make: (rng) => {
      const c = rng.pick(['a', 'b', 'e', 's', 't']);
      return {
        fn: 'countChar',
        key: `countChar:c=${c}`,
        prompt: `Write a JavaScript function countChar(s) that returns how many times the letter '${c}' occurs in the string s.`,
        source: `function countChar(s) {\n  let n = 0;\n  for (const ch of s) if (ch === '${c}') n++;\n  return n;\n}`,
        reference: (s: string) => [...s].filter((ch) => ch === c).length,
        args: (r) => [word(r, `abest${c}${c}`, 10)],
        edges: [[''], [c + c]],
        plan: `Count the characters equal to '${c}'.`,
        steps: ['Start with n = 0.', `For each character, add 1 when it equals '${c}'.`, 'Return n.'],
      };
    },
  },
  {
    name: 'sumMultiples',
    level: 2,
    make: (rng) => {
      const k = rng.int(2, 9);
      return {
        fn: 'sumMultiples',
        key: `sumMultiples:k=${k}`,
        prompt: `Write a JavaScript function sumMultiples(n) that returns the sum of all positive multiples of ${k} below n.`,
        source: `function sumMultiples(n) {\n  let total = 0;\n  for (let m = ${k}; m < n; m += ${k}) total += m;\n  return total;\n}`,
        reference: (n: number) => {
          let total = 0;
          for (let m = k; m < n; m += k) total += m;
          return total;
        },
        args: (r) => [r.int(0, 200)],
        edges: [[0], [k], [k + 1]],
        plan: `Add ${k}, ${2 * k}, ${3 * k}, … while below n.`,
        steps: [`Start with total = 0 and m = ${k}.`, `While m < n add m to total and increase m by ${k}.`, 'Return total (0 when n is small).'],
      };
    },
  },
  {
    name: 'fibonacci',
    level: 3,
    make: () => ({
      fn: 'fibonacci',
      key: 'fibonacci',
      prompt: 'Write a JavaScript function fibonacci(n) that returns the n-th Fibonacci number, with fibonacci(0) = 0 and fibonacci(1) = 1, for n up to 40.',
      source: 'function fibonacci(n) {\n  let a = 0, b = 1;\n  for (let i = 0; i < n; i++) [a, b] = [b, a + b];\n  return a;\n}',
      reference: (n: number) => {
        let a = 0;
        let b = 1;
        for (let i = 0; i < n; i++) [a, b] = [b, a + b];
        return a;
      },
      args: (rng) => [rng.int(0, 40)],
      edges: [[0], [1], [2]],
      plan: 'Iterate with two variables a, b = 0, 1, shifting n times; recursion would be too slow.',
      steps: ['Keep a = 0 and b = 1.', 'Repeat n times: a, b become b, a + b.', 'Return a; a loop avoids slow recursion.'],
    }),
  },
  {
    name: 'gcd',
    level: 3,
    make: () => ({
      fn: 'gcd',
      key: 'gcd',
      prompt: 'Write a JavaScript function gcd(a, b) that returns the greatest common divisor of two non-negative integers (gcd(0, 0) = 0).',
      source: 'function gcd(a, b) {\n  while (b !== 0) [a, b] = [b, a % b];\n  return a;\n}',
      reference: (a: number, b: number) => {
        while (b !== 0) [a, b] = [b, a % b];
        return a;
      },
      args: (rng) => [rng.int(0, 500), rng.int(0, 500)],
      edges: [[0, 0], [0, 9], [12, 18]],
      plan: "Euclid's algorithm: replace (a, b) by (b, a % b) until b is 0.",
      steps: ["Use Euclid's algorithm.", 'While b is not 0, set a, b to b, a % b.', 'Return a; gcd(0, 0) gives 0.'],
    }),
  },
  {
    name: 'isPrime',
    level: 3,
    make: () => ({
      fn: 'isPrime',
      key: 'isPrime',
      prompt: 'Write a JavaScript function isPrime(n) that returns true if the integer n is a prime number, else false.',
      source: 'function isPrime(n) {\n  if (n < 2) return false;\n  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;\n  return true;\n}',
      reference: (n: number) => {
        if (n < 2) return false;
        for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
        return true;
      },
      args: (rng) => [rng.int(-5, 1000)],
      edges: [[0], [1], [2], [9], [97]],
      plan: 'Numbers below 2 are not prime; otherwise try divisors d while d*d <= n.',
      steps: ['If n < 2 return false.', 'Try every d from 2 while d * d <= n; if n % d is 0 return false.', 'Otherwise return true.'],
    }),
  },
  {
    name: 'runLength',
    level: 3,
    make: () => ({
      fn: 'runLength',
      key: 'runLength',
      prompt: "Write a JavaScript function runLength(s) that encodes runs of equal characters as count then character, e.g. runLength('aaab') = '3a1b'.",
      source:
        "function runLength(s) {\n  let out = '';\n  for (let i = 0; i < s.length; ) {\n    let j = i;\n    while (j < s.length && s[j] === s[i]) j++;\n" +
        '    out += (j - i) + s[i];\n    i = j;\n  }\n  return out;\n}',
      reference: (s: string) => (s.match(/(.)\1*/g) ?? []).map((run) => `${run.length}${run[0]}`).join(''),
      args: (rng) => [word(rng, 'aab', 10)],
      edges: [[''], ['aaab'], ['abc']],
      plan: 'Walk the string; for each run of equal characters append its length and the character.',
      steps: ["Start with out = '' and i = 0.", 'Advance j while s[j] equals s[i]; the run length is j - i.', 'Append the length and s[i], then set i = j.', 'Return out.'],
    }),
  },
];
