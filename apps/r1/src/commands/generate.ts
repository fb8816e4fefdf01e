import type { Command } from 'commander';
import { ConfigError, disposeBackend, initBackend } from '@r1-ts/tensor-kernels';
import type { BackendName } from '@r1-ts/tensor-kernels';
import { generate } from '@r1-ts/model';
import type { ChatMessage } from '@r1-ts/model';
import { openCheckpoint } from './checkpoint_dir';
import { EXIT } from './exit';

interface GenerateFlags {
  /** A PEFT LoRA adapter directory applied on the model (ours or one PEFT wrote). */
  adapter?: string;
  model: string;
  prompt?: string;
  promptIds?: string;
  chat?: boolean;
  system?: string;
  maxTokens?: string;
  temperature?: string;
  topP?: string;
  seed: string;
  json?: boolean;
  backend: BackendName;
}

/** Sampling settings: flags win, then generation_config.json, then transformers' defaults (greedy). */
export function samplingDefaults(
  flags: Pick<GenerateFlags, 'maxTokens' | 'temperature' | 'topP'>, gen: Record<string, unknown> | null,
): { temperature: number; topP: number; maxTokens: number } {
  const num = (flag: string | undefined, name: string): number | undefined => {
    if (flag === undefined) return undefined;
    const v = Number(flag);
    if (flag.trim() === '' || !Number.isFinite(v)) throw new ConfigError(`--${name} must be a number, got ${JSON.stringify(flag)}`, [name]);
    return v;
  };
  const sampled = gen?.do_sample === true; // transformers samples only with do_sample; greedy otherwise
  const temperature = num(flags.temperature, 'temperature') ?? (sampled && typeof gen?.temperature === 'number' ? gen.temperature : sampled ? 1 : 0);
  const topP = num(flags.topP, 'top-p') ?? (sampled && typeof gen?.top_p === 'number' ? gen.top_p : 1);
  const maxTokens = num(flags.maxTokens, 'max-tokens') ?? (typeof gen?.max_new_tokens === 'number' ? gen.max_new_tokens : 128);
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new ConfigError(`--max-tokens must be a positive integer, got ${maxTokens}`, ['max-tokens']);
  return { temperature, topP, maxTokens };
}

/**
 * `r1 generate --model DIR (--prompt TEXT | --prompt-ids 1,2,3)`: loads any supported Hugging Face
 * checkpoint directory and prints the completion of one prompt. `--chat` wraps the prompt as one
 * user message (after `--system`) through the model's chat template with the generation prompt;
 * generation_config.json supplies the default sampling settings; `--json` prints one line
 * `{"text", "token_ids", "prompt_ids"}` (token_ids: the new tokens only).
 *
 * @example
 * ```ts
 * // no-run: reads a checkpoint directory
 * import { Command } from 'commander';
 * const program = new Command();
 * registerGenerate(program);
 * await program.parseAsync(['generate', '--model', 'ckpts/Qwen2.5-0.5B-Instruct', '--prompt', '1+1=', '--chat', '--json'], { from: 'user' });
 * ```
 */
export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('print the completion of one prompt by a checkpoint directory (llama, qwen2, qwen3, deepseek_v2/v3/v32)')
    .requiredOption('--model <dir>', 'checkpoint directory (config.json, safetensors, tokenizer.json)')
    .option('--prompt <text>', 'prompt text')
    .option('--prompt-ids <ids>', 'prompt token ids, comma-separated (instead of --prompt)')
    .option('--chat', "wrap the prompt as a user message through the model's chat template")
    .option('--system <text>', 'system message (with --chat)')
    .option('--max-tokens <n>', 'new tokens at most (default: generation_config max_new_tokens, else 128)')
    .option('--temperature <t>', 'sampling temperature, 0 = greedy (default: generation_config, else greedy)')
    .option('--top-p <p>', 'nucleus sampling (default: generation_config, else 1)')
    .option('--seed <s>', 'sampling seed', '0')
    .option('--json', 'print one JSON line {"text", "token_ids", "prompt_ids"}')
    .option('--adapter <dir>', 'a PEFT LoRA adapter directory (adapter_config.json + adapter_model.safetensors) applied on the model')
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu', 'auto')
    .action(async (flags: GenerateFlags) => {
      const usage = (message: string) => {
        console.error(`r1 generate: ${message}`);
        process.exitCode = EXIT.config;
      };
      if ((flags.prompt === undefined) === (flags.promptIds === undefined)) return usage('give exactly one of --prompt TEXT or --prompt-ids 1,2,3');
      if (flags.chat && flags.prompt === undefined) return usage('--chat needs --prompt TEXT (a chat message is text)');
      if (flags.system !== undefined && !flags.chat) return usage('--system needs --chat');
      let ids: number[] | null = null;
      if (flags.promptIds !== undefined) {
        ids = flags.promptIds.split(',').map((s) => Number(s.trim()));
        if (!ids.length || ids.some((v) => !Number.isInteger(v) || v < 0)) return usage(`--prompt-ids must be comma-separated non-negative integers, got ${JSON.stringify(flags.promptIds)}`);
      }
      const seed = Number(flags.seed);
      if (!Number.isInteger(seed)) return usage(`--seed must be an integer, got ${JSON.stringify(flags.seed)}`);
      let loaded;
      try {
        await initBackend({ backend: flags.backend, quiet: true });
        loaded = openCheckpoint(flags.model, { adapter: flags.adapter });
      } catch (e) {
        return usage((e as Error).message);
      }
      const { model, tokenizer, generationConfig, stopIds } = loaded;
      try {
        const sampling = samplingDefaults(flags, generationConfig);
        let prompt: number[];
        if (ids) prompt = ids;
        else if (flags.chat) {
          const messages: ChatMessage[] = [...(flags.system !== undefined ? [{ role: 'system' as const, content: flags.system }] : []), { role: 'user', content: flags.prompt! }];
          prompt = tokenizer.encode(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }));
        } else prompt = tokenizer.encode(flags.prompt!);
        const V = model.config.vocab_size;
        const bad = prompt.find((id) => id >= V);
        if (bad !== undefined) return usage(`prompt token id ${bad} is outside the model's vocabulary (vocab_size ${V})`);
        const room = model.config.max_position_embeddings - prompt.length;
        if (room < 1) return usage(`the prompt (${prompt.length} tokens) fills max_position_embeddings (${model.config.max_position_embeddings})`);
        const [res] = generate(model, tokenizer, [prompt], {
          maxNewTokens: Math.min(sampling.maxTokens, room),
          temperature: sampling.temperature,
          topP: sampling.topP,
          seed,
          stopIds, // every eos id: the tokenizer's, generation_config's and config's
        });
        if (flags.json) console.log(JSON.stringify({ text: res.text, token_ids: res.tokens, prompt_ids: prompt }));
        else console.log(res.text);
      } catch (e) {
        if (e instanceof ConfigError) return usage(e.message);
        throw e;
      } finally {
        loaded.adapter?.dispose();
        model.dispose();
        await disposeBackend();
      }
    });
}
