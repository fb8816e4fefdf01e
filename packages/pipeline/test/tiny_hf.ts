// Tiny random Hugging Face checkpoints (llama, qwen2) with a real-style tokenizer.json and chat
// template, for the pretrained-role tests of the pipeline. The tokenizer is a BPE over printable
// characters plus the family's chat markers as added tokens; it has one merge, so it loads as a
// generic Hugging Face tokenizer (not r1-ts' character tokenizer) and renders prompts with the
// Jinja template of its tokenizer_config.json. `<think>`/`<answer>` are plain text to it.
import { DenseModel, savePretrained } from '@r1-ts/model';

const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).concat(['\n']);

/** Chat formats: Llama-2 style `[INST]` turns with bos/eos, and Qwen's ChatML. */
const FORMATS = {
  llama: {
    added: ['<s>', '</s>'],
    config: { bos_token: '<s>', eos_token: '</s>', pad_token: null },
    template: "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}[INST] {{ m['content'] }} [/INST]{% elif m['role'] == 'system' %}<<SYS>>{{ m['content'] }}<</SYS>>{% else %} {{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}",
  },
  qwen2: {
    added: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'],
    config: { bos_token: null, eos_token: '<|im_end|>', pad_token: '<|endoftext|>' },
    template: "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
  },
} as const;

/** The tokenizer.json and tokenizer_config.json of a family's tiny tokenizer. */
export function tinyTokenizerFiles(family: keyof typeof FORMATS): { json: Record<string, unknown>; config: Record<string, unknown>; vocabSize: number } {
  const f = FORMATS[family];
  const vocab = [...PRINTABLE, '+=', ...f.added];
  const json = {
    version: '1.0', truncation: null, padding: null, normalizer: null, pre_tokenizer: null, post_processor: null,
    added_tokens: f.added.map((content) => ({ id: vocab.indexOf(content), content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    decoder: { type: 'Fuse' },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false,
      ignore_merges: false, vocab: Object.fromEntries(vocab.map((t, i) => [t, i])), merges: [['+', '=']],
    },
  };
  return { json, config: { tokenizer_class: 'PreTrainedTokenizerFast', ...f.config, chat_template: f.template }, vocabSize: vocab.length };
}

/** Writes a tiny random `llama` or `qwen2` checkpoint (f32) with its tokenizer files into `dir`. */
export function writeTinyHf(dir: string, family: 'llama' | 'qwen2', seed = 0): void {
  const { json, config, vocabSize } = tinyTokenizerFiles(family);
  const model = new DenseModel({
    model_type: family, vocab_size: vocabSize, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1,
    num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 256, rms_norm_eps: 1e-6, tie_word_embeddings: family === 'qwen2',
  }, { seed });
  savePretrained(dir, model, { dtype: 'f32', files: { 'tokenizer.json': JSON.stringify(json), 'tokenizer_config.json': JSON.stringify(config) } });
  model.dispose();
}
