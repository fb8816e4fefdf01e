import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { disposeBackend, initBackend } from '@r1-ts/tensor-kernels';
import type { BackendName } from '@r1-ts/tensor-kernels';
import { openThinkSuffix } from '@r1-ts/model';
import type { ChatMessage } from '@r1-ts/model';
import { Engine } from '../serve/engine';
import { ReasoningSplitter, splitReasoning } from '../serve/reasoning';
import { generationSampling, openCheckpoint } from './checkpoint_dir';
import { EXIT } from './exit';

interface ChatFlags {
  temperature?: string;
  topP?: string;
  adapter?: string;
  maxTokens: string;
  system?: string;
  backend: BackendName;
}

const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

/**
 * `r1 chat CKPT`: a terminal chat with a checkpoint (r1-ts's or a Hugging Face directory of any
 * supported family, optionally with `--adapter DIR`; prompts through its chat template).
 * Sampling: flags, else generation_config.json's temperature / top_p, else R1's 0.6 / 0.95. Tokens stream as they are sampled; the reasoning
 * (`<think>…</think>`) is shown dimmed, the answer plain. Ctrl-C during a reply stops that reply;
 * Ctrl-C at the prompt (or Ctrl-D, or `/exit`) quits. `/reset` clears the history.
 *
 * @example
 * ```ts
 * import { Command } from 'commander';
 * const program = new Command();
 * registerChat(program);
 * await program.parseAsync(['chat', 'runs/demo/final'], { from: 'user' });
 * ```
 */
export function registerChat(program: Command): void {
  program
    .command('chat')
    .description('chat with a checkpoint in the terminal (streaming; reasoning dimmed; Ctrl-C stops a reply)')
    .argument('<ckpt>', 'checkpoint directory: r1-ts\'s or a Hugging Face one')
    .option('--temperature <t>', 'sampling temperature (default: generation_config, else 0.6)')
    .option('--top-p <p>', 'nucleus sampling (default: generation_config, else 0.95)')
    .option('--adapter <dir>', 'a PEFT LoRA adapter directory merged into the weights')
    .option('--max-tokens <n>', 'reply budget (default: what fits in the context)')
    .option('--system <text>', 'system prompt')
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu', 'auto')
    .action(async (ckpt: string, flags: ChatFlags) => {
      const fail = (message: string) => {
        console.error(`r1 chat: ${message}`);
        process.exitCode = EXIT.config;
      };
      const num = (flag: string | undefined, name: string, ok: (v: number) => boolean): number | undefined | null => {
        if (flag === undefined) return undefined;
        const v = Number(flag);
        if (flag.trim() === '' || !ok(v)) {
          fail(`--${name} must be a number in range, got ${JSON.stringify(flag)}`);
          return null;
        }
        return v;
      };
      const t = num(flags.temperature, 'temperature', (v) => v >= 0);
      const p = num(flags.topP, 'top-p', (v) => v > 0 && v <= 1);
      if (t === null || p === null) return;
      let loaded;
      try {
        await initBackend({ backend: flags.backend, quiet: true });
        loaded = openCheckpoint(ckpt, { adapter: flags.adapter });
      } catch (e) {
        return fail((e as Error).message);
      }
      const { model, tokenizer } = loaded;
      const gen = generationSampling(loaded.generationConfig);
      const sampling = { temperature: t ?? gen.temperature ?? 0.6, topP: p ?? gen.topP ?? 0.95 };
      const engine = new Engine(model, tokenizer, { maxBatch: 1, stopIds: loaded.stopIds });
      const color = Boolean(process.stdout.isTTY);
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      let generation: AbortController | null = null;
      rl.on('SIGINT', () => {
        if (generation) generation.abort(); // stop this reply, keep the chat
        else rl.close(); // at the prompt: quit
      });
      const history: ChatMessage[] = flags.system ? [{ role: 'system', content: flags.system }] : [];
      console.log(`r1 chat: ${ckpt} (Ctrl-C stops a reply; /reset clears the history; /exit quits)`);
      rl.setPrompt('> ');
      rl.prompt();
      // The line iterator buffers input typed (or piped) during a reply; it ends on Ctrl-D / Ctrl-C.
      for await (const line of rl) {
        if (line.trim() === '/exit') break;
        if (line.trim() === '/reset') {
          history.splice(flags.system ? 1 : 0);
          rl.prompt();
          continue;
        }
        if (!line.trim()) {
          rl.prompt();
          continue;
        }
        history.push({ role: 'user', content: line });
        let prompt: number[];
        let opensThink: boolean;
        try {
          const text = tokenizer.applyChatTemplate(history, { addGenerationPrompt: true });
          prompt = tokenizer.encode(text);
          opensThink = openThinkSuffix(text) !== '';
        } catch (e) {
          console.log(`(${(e as Error).message})`);
          history.pop();
          rl.prompt();
          continue;
        }
        const room = model.config.max_position_embeddings - prompt.length;
        const maxTokens = Math.min(room, flags.maxTokens ? Number(flags.maxTokens) : room);
        if (maxTokens < 1) {
          console.log('(the conversation fills the context window; /reset to start over)');
          history.pop();
          rl.prompt();
          continue;
        }
        const splitter = new ReasoningSplitter({ inReasoning: opensThink });
        let inReasoning = false;
        const show = (d: { reasoning?: string; content?: string }) => {
          if (d.reasoning) {
            if (!inReasoning && color) process.stdout.write(DIM);
            inReasoning = true;
            process.stdout.write(d.reasoning);
          }
          if (d.content) {
            if (inReasoning) process.stdout.write(color ? `${RESET}\n` : '\n');
            inReasoning = false;
            process.stdout.write(d.content);
          }
        };
        generation = new AbortController();
        const res = await engine.submit({
          prompt, maxTokens, seed: Date.now() | 0, signal: generation.signal,
          sampling,
          onText: (delta) => show(splitter.push(delta)),
        });
        show(splitter.end());
        generation = null;
        process.stdout.write(`${color && inReasoning ? RESET : ''}${res.finishReason === 'abort' ? ' [stopped]' : ''}\n`);
        history.push({ role: 'assistant', content: splitReasoning(res.text, { inReasoning: opensThink }).content });
        rl.prompt();
      }
      rl.close();
      loaded.adapter?.dispose();
      model.dispose();
      await disposeBackend();
    });
}
