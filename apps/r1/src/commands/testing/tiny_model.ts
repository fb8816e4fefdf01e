// A tiny random Llama checkpoint with a character tokenizer, written as a Hugging Face directory,
// for the `r1 grpo` / `r1 sft` tests.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CharTokenizer, DenseModel, savePretrained } from '@r1-ts/model';

const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('') + '\n';

/** Writes config.json, model.safetensors (f32) and the tokenizer files of a tiny llama into `dir`. */
export function writeTinyLlama(dir: string, seed = 0): void {
  const tokenizer = CharTokenizer.fromCorpus([PRINTABLE]);
  const model = new DenseModel({
    model_type: 'llama', vocab_size: tokenizer.vocabSize, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2,
    num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 512, rms_norm_eps: 1e-6, tie_word_embeddings: false,
  }, { seed });
  savePretrained(dir, model, { dtype: 'f32', tokenizer });
  model.dispose();
}

/** A GSM8K-schema JSONL file of `n` one-digit additions. */
export function writeGsm8kJsonl(path: string, n: number, offset = 0): void {
  const rows = Array.from({ length: n }, (_, i) => {
    const a = (i + offset) % 5, b = Math.floor((i + offset) / 5) % 5;
    return JSON.stringify({ question: `${a}+${b}=?`, answer: `${a}+${b}=${a + b}\n#### ${a + b}` });
  });
  writeFileSync(path, `${rows.join('\n')}\n`);
}

export const tinyPaths = (root: string) => ({ model: join(root, 'model'), data: join(root, 'train.jsonl'), out: join(root, 'out') });
