// Throughput of every reward in @r1-ts/rewards: completions/s over 10,000 generated completions
// (200 for the code reward, whose every test starts a fresh QuickJS runtime in the sandbox worker;
// Python programs/s for the Python code reward, see runPython).
import {
  accuracyReward,
  codeReward,
  combineRewards,
  cosineLengthReward,
  formatReward,
  languageConsistencyReward,
  repetitionPenalty,
  softOverlongPunishment,
  tagCountReward,
  type RewardFunction,
  type RewardSample,
} from '@r1-ts/rewards';
import { report } from '../lib.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// A mix of answer forms: integers with separators, fractions, roots, expressions; right and wrong.
function mathCase(rand: () => number, i: number): { completion: string; sample: RewardSample } {
  const a = 1 + Math.floor(rand() * 9000);
  const b = 1 + Math.floor(rand() * 90);
  const forms: Array<[string, string]> = [
    [`${a + b}`, `${(a + b).toLocaleString('en-US')}`],
    [`\\frac{${a}}{${b}}`, `\\dfrac{${2 * a}}{${2 * b}}`],
    [`${b}\\sqrt{2}`, `\\sqrt{${2 * b * b}}`],
    [`x^2-${b * b}`, `(x-${b})(x+${b})`],
  ];
  const [answer, right] = forms[i % forms.length];
  const predicted = rand() < 0.5 ? right : `${a + b + 1}`;
  const think = 'Let me add the numbers step by step and check the carries. '.repeat(1 + Math.floor(rand() * 20));
  const tail = rand() < 0.8 ? `<answer>\\boxed{${predicted}}</answer>` : `The answer is \\boxed{${predicted}}.`;
  return { completion: `<think>${think}</think>\n${tail}`, sample: { prompt: `Compute ${a} + ${b}.`, answer } };
}

async function throughput(name: string, fn: RewardFunction, cases: Array<{ completion: string; sample: RewardSample }>, note = ''): Promise<void> {
  const t0 = performance.now();
  for (const c of cases) await fn(c.completion, c.sample);
  const s = (performance.now() - t0) / 1000;
  report(`rewards.${name}`, cases.length / s, 'completions/s', { n: cases.length, seconds: s, ...(note ? { note } : {}) });
}

export async function run(): Promise<void> {
  const rand = mulberry32(1234);
  const cases = Array.from({ length: 10_000 }, (_, i) => mathCase(rand, i));
  await throughput('format', formatReward, cases);
  await throughput('tagCount', tagCountReward, cases);
  await throughput('languageConsistency', languageConsistencyReward, cases);
  await throughput('softOverlong', softOverlongPunishment, cases);
  await throughput('repetition', repetitionPenalty, cases);
  await throughput('accuracy', accuracyReward, cases);
  await throughput('cosineLength', cosineLengthReward, cases);
  const combined = combineRewards([
    { name: 'accuracy', fn: accuracyReward, weight: 1 },
    { name: 'format', fn: formatReward, weight: 1 },
    { name: 'language', fn: languageConsistencyReward, weight: 0.1 },
  ]);
  await throughput('combined(accuracy+format+language)', async (c, s) => (await combined(c, s)).total, cases);

  const code = Array.from({ length: 200 }, (_, i) => ({
    completion: `<think>easy</think>\n\`\`\`js\nfunction add(a, b) { return a + b${i % 4 === 0 ? ' + 1' : ''}; }\n\`\`\``,
    sample: { prompt: 'Write add(a, b).', entryPoint: 'add', tests: [{ input: [i, 1], expected: i + 1 }, { input: [-i, i], expected: 0 }] },
  }));
  await throughput('code', codeReward, code, '200 completions x 2 tests');
  await runPython();
}

// Python code reward: programs graded per second on a stdin/stdout task with 10 tests each. Cold is
// the first program of the process (the CPython start, the memory snapshot the later interpreters
// start from, then the program); warm reuses the pool's interpreters, reset between programs.
export async function runPython(): Promise<void> {
  const { createPythonCodeReward, warmPythonSandbox } = await import('@r1-ts/rewards');
  const program = (i: number) =>
    `<think>read two ints</think>\n\`\`\`python\nimport sys\nfor line in sys.stdin:\n    a, b = map(int, line.split())\n    print(a + b${i % 4 === 0 ? ' + 1' : ''})\n\`\`\``;
  const sample = (i: number): RewardSample => ({
    prompt: 'For each line, print the sum of its two integers.',
    tests: Array.from({ length: 10 }, (_, t) => ({ input: `${i} ${t}\n${t} ${i}\n`, output: `${i + t}\n${i + t}\n` })),
  });
  const reward = createPythonCodeReward();
  const t0 = performance.now();
  await reward(program(1), sample(1));
  const cold = (performance.now() - t0) / 1000;
  report('rewards.python.cold', 1 / cold, 'programs/s', { seconds: cold, note: 'first program incl. interpreter start, 10 tests' });
  await warmPythonSandbox();
  const n = 100;
  const t1 = performance.now();
  for (let i = 0; i < n; i++) await reward(program(i), sample(i));
  const warm = (performance.now() - t1) / 1000;
  report('rewards.python.warm', n / warm, 'programs/s', { n, seconds: warm, tests_per_program: 10, pool: 1 });
  const options = { poolSize: 2 };
  const t2 = performance.now();
  await warmPythonSandbox(options);
  report('rewards.python.pool_start', (performance.now() - t2) / 1000, 's', { note: '3 interpreters from the snapshot' });
  const parallel = createPythonCodeReward(options);
  const t3 = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => parallel(program(i), sample(i))));
  const par = (performance.now() - t3) / 1000;
  report('rewards.python.warm', n / par, 'programs/s', { n, seconds: par, tests_per_program: 10, pool: 2 });
}
