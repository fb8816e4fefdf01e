// A tiny random Qwen2 checkpoint in Hugging Face's layout with a Hugging Face tokenizer (BPE over
// single characters plus one merge, ChatML special tokens, a chat template in tokenizer_config.json
// whose generation prompt opens `<think>` as R1-Distill's does), for tests of serve/chat/eval/grpo on
// HF directories. `<think>`, `</think>`, `<answer>` are plain text here: several tokens each.
import { join } from 'node:path';
import { DenseModel, savePretrained } from '@r1-ts/model';

const CHARS = [...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)), '\n'];
const SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];

/** ChatML with R1-Distill's generation prompt (`<think>\n` opens the reasoning). */
const CHAT_TEMPLATE = [
  "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}",
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n<think>\\n' }}{% endif %}",
].join('');

/** The ids of the tiny tokenizer's special tokens. */
export const TINY_HF_SPECIAL = { endoftext: CHARS.length + 1, imStart: CHARS.length + 2, imEnd: CHARS.length + 3 };

/** tokenizer.json: BPE over the printable characters (+ the merge `#`,`#` → `##`), ChatML specials added. */
export function tinyHfTokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = Object.fromEntries(CHARS.map((c, i) => [c, i]));
  vocab['##'] = CHARS.length;
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: SPECIALS.map((content, k) => ({ id: CHARS.length + 1 + k, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null, pre_tokenizer: null, post_processor: null,
    decoder: { type: 'Fuse' },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab, merges: ['# #'] },
  };
}

/** Vocabulary size of the tiny tokenizer (characters, `##`, three specials). */
export const TINY_HF_VOCAB = CHARS.length + 1 + SPECIALS.length;

/**
 * Writes a tiny random qwen2 checkpoint (GQA, tied embeddings unless `tieWordEmbeddings: false`, f32) with the tokenizer above into
 * `dir`; `generationConfig` is written as generation_config.json. Returns the model (caller disposes).
 */
export function writeTinyQwen2(
  dir: string, options: { seed?: number; generationConfig?: Record<string, unknown>; eosTokenId?: number | number[]; tieWordEmbeddings?: boolean } = {},
): DenseModel {
  const model = new DenseModel({
    model_type: 'qwen2', vocab_size: TINY_HF_VOCAB, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2,
    num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 256, rms_norm_eps: 1e-6, rope_theta: 10000,
    tie_word_embeddings: options.tieWordEmbeddings ?? true, eos_token_id: options.eosTokenId ?? TINY_HF_SPECIAL.imEnd,
  }, { seed: options.seed ?? 0 });
  savePretrained(dir, model, {
    dtype: 'f32',
    generationConfig: options.generationConfig,
    files: {
      'tokenizer.json': JSON.stringify(tinyHfTokenizerJson()),
      'tokenizer_config.json': JSON.stringify({ eos_token: '<|im_end|>', pad_token: '<|endoftext|>', chat_template: CHAT_TEMPLATE }),
    },
  });
  return model;
}

/** `join(root, name)` for a tiny checkpoint's directory. */
export const tinyHfDir = (root: string, name = 'qwen2') => join(root, name);
