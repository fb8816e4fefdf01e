// Chat templates: the Jinja `chat_template` of a checkpoint's tokenizer_config.json, rendered with
// @huggingface/jinja under transformers' `apply_chat_template` rules (add_generation_prompt false by
// default; bos_token/eos_token/… and the caller's extra keyword arguments in the context; tools and
// documents none when not given; raise_exception and strftime_now available).
import { Template } from '@huggingface/jinja';
import { R1Error } from '@r1-ts/tensor-kernels';

/**
 * A chat template could not be parsed or rendered, or refused the conversation
 * (`raise_exception` in the template). The message says which.
 *
 * @example
 * ```ts
 * import { ChatTemplate, ChatTemplateError } from '@r1-ts/model';
 * const t = new ChatTemplate("{{ raise_exception('roles must alternate') }}");
 * try { t.render([]); } catch (e) { console.log(e instanceof ChatTemplateError); } // true
 * ```
 */
export class ChatTemplateError extends R1Error {
  /**
   * @param message - What went wrong: the template's syntax error or the failing expression, with its location.
   */
  constructor(message: string) {
    super('E_CHAT_TEMPLATE', message);
  }
}

/**
 * One message as chat templates see it: a role, its content, and the fields templates read besides
 * (OpenAI's message shape). Every field of the object reaches the template.
 *
 * @example
 * ```ts
 * import type { ChatTemplateMessage } from '@r1-ts/model';
 * const m: ChatTemplateMessage = { role: 'tool', content: '{"temp": 21}', name: 'weather', tool_call_id: 'c1' };
 * ```
 */
export interface ChatTemplateMessage {
  role: string;
  content?: string | null;
  /** The reasoning of an earlier assistant turn (Qwen3's template reads it). */
  reasoning_content?: string | null;
  /** An assistant turn's tool calls: `{ type: 'function', function: { name, arguments } }`. */
  tool_calls?: readonly Record<string, unknown>[] | null;
  name?: string;
  tool_call_id?: string;
}

/**
 * Options of {@link ChatTemplate.render}, named like transformers' `apply_chat_template`. Any other
 * key is passed to the template as is, like transformers' `**kwargs` (e.g. Qwen3's `enable_thinking`).
 *
 * @example
 * ```ts
 * import type { ChatTemplateOptions } from '@r1-ts/model';
 * const opts: ChatTemplateOptions = { addGenerationPrompt: true, enable_thinking: false };
 * ```
 */
export interface ChatTemplateOptions {
  /** End with the header that opens the assistant's reply. Default false, as in transformers. */
  addGenerationPrompt?: boolean;
  /** Cut the text right after the last message's content so the model continues it. Default false. */
  continueFinalMessage?: boolean;
  /** JSON-schema tool descriptions (`tools` in the template; none when absent). */
  tools?: readonly Record<string, unknown>[] | null;
  /** Retrieval documents (`documents` in the template; none when absent). */
  documents?: readonly Record<string, unknown>[] | null;
  [extra: string]: unknown;
}

/**
 * A compiled chat template with the tokenizer's special tokens (`bos_token`, `eos_token`, …) bound.
 *
 * @example
 * ```ts
 * import { ChatTemplate } from '@r1-ts/model';
 * const t = new ChatTemplate("{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}", { bos_token: '<s>' });
 * console.log(t.render([{ role: 'user', content: 'hi' }])); // '<s>[user] hi\n'
 * ```
 */
export class ChatTemplate {
  private readonly template: Template;

  /**
   * @param source the Jinja text (a tokenizer_config.json `chat_template`)
   * @param specialTokens the tokenizer's `special_tokens_map`: bos_token, eos_token, pad_token, …
   */
  constructor(
    readonly source: string,
    readonly specialTokens: Readonly<Record<string, string | readonly string[]>> = {},
  ) {
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new ChatTemplateError(`chat_template could not be parsed: ${(e as Error).message}`);
    }
  }

  /** Renders a conversation (see {@link ChatTemplateOptions}). */
  render(messages: readonly ChatTemplateMessage[], options: ChatTemplateOptions = {}): string {
    const { addGenerationPrompt = false, continueFinalMessage = false, tools = null, documents = null, ...extra } = options;
    if (addGenerationPrompt && continueFinalMessage) {
      throw new ChatTemplateError('addGenerationPrompt and continueFinalMessage cannot both be true: the first opens a new assistant turn, the second continues the last message');
    }
    if (messages.length === 0) throw new ChatTemplateError('cannot apply a chat template to an empty conversation: give at least one message');
    const final = messages.at(-1)!.content;
    if (continueFinalMessage && typeof final !== 'string') {
      throw new ChatTemplateError(`continueFinalMessage needs a last message whose content is a string, got ${JSON.stringify(final)}`);
    }
    // transformers marks the end of the final message with a tag, renders, then cuts at the tag.
    const turns = messages.map((m, i) => (continueFinalMessage && i === messages.length - 1 ? { ...m, content: final + CONTINUE_TAG } : { ...m }));
    let text: string;
    try {
      text = this.template.render({
        ...this.specialTokens,
        ...extra,
        messages: turns,
        tools,
        documents,
        add_generation_prompt: addGenerationPrompt,
      });
    } catch (e) {
      throw new ChatTemplateError(`chat_template failed on this conversation: ${(e as Error).message}`);
    }
    if (!continueFinalMessage) return text;
    const at = text.lastIndexOf(CONTINUE_TAG.trim());
    if (at < 0 || !text.includes((final as string).trim())) {
      throw new ChatTemplateError('continueFinalMessage: the last message does not appear in the rendered chat (the template drops or rewrites it)');
    }
    // A template that trims the message also trimmed the tag's space: then trim what precedes it too.
    return text.startsWith(CONTINUE_TAG, at) ? text.slice(0, at) : text.slice(0, at).trimEnd();
  }
}

/** transformers' marker for continue_final_message (its exact text, so the cut matches). */
const CONTINUE_TAG = 'CONTINUE_FINAL_MESSAGE_TAG ';

/**
 * The chat template of r1-ts's own character-tokenizer models, the same text {@link renderChat}
 * writes: bos, system text as is, then `<｜User｜>…` and `<｜Assistant｜>…<｜end▁of▁sentence｜>` turns.
 *
 * @example
 * ```ts
 * import { ChatTemplate, R1_CHAT_TEMPLATE } from '@r1-ts/model';
 * const t = new ChatTemplate(R1_CHAT_TEMPLATE, { bos_token: '<s>', eos_token: '</s>' });
 * console.log(t.render([{ role: 'user', content: '1+1?' }], { addGenerationPrompt: true })); // '<s><｜User｜>1+1?<｜Assistant｜>'
 * ```
 */
export const R1_CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}" +
  "{% if message['role'] == 'system' %}{{ message['content'] }}" +
  "{% elif message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}" +
  "{% elif message['role'] == 'assistant' %}{{ '<｜Assistant｜>' + message['content'] + eos_token }}" +
  "{% else %}{{ raise_exception('role must be system, user or assistant, got ' + message['role']) }}{% endif %}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<｜Assistant｜>' }}{% endif %}";

/**
 * Picks the template transformers would use from a tokenizer_config.json `chat_template`: the string
 * itself, or from a list of `{name, template}` the `tool_use` one when tools are given and it exists,
 * else `default`.
 *
 * @param value - A `chat_template` field as found in tokenizer_config.json: a string, a list of `{ name, template }`, or absent.
 * @param withTools - Whether the conversation passes tools (picks the `tool_use` template when there is one). Default false.
 *
 * @example
 * ```ts
 * import { selectChatTemplate } from '@r1-ts/model';
 * console.log(selectChatTemplate([{ name: 'default', template: 'A' }, { name: 'tool_use', template: 'B' }], true)); // 'B'
 * ```
 */
export function selectChatTemplate(value: unknown, withTools = false): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  const named = new Map<string, string>();
  if (Array.isArray(value)) {
    for (const t of value as { name?: unknown; template?: unknown }[]) {
      if (typeof t?.name !== 'string' || typeof t?.template !== 'string') {
        throw new ChatTemplateError(`tokenizer_config.json chat_template: each entry of the list must be {"name": string, "template": string}, got ${JSON.stringify(t)}`);
      }
      named.set(t.name, t.template);
    }
  } else {
    throw new ChatTemplateError(`tokenizer_config.json chat_template must be a string or a list of {name, template}, got ${typeof value}`);
  }
  if (withTools && named.has('tool_use')) return named.get('tool_use')!;
  const chosen = named.get('default');
  if (chosen === undefined) {
    throw new ChatTemplateError(`tokenizer_config.json chat_template has templates ${[...named.keys()].join(', ')} but none named "default"`);
  }
  return chosen;
}

/**
 * The `<think>` (and the whitespace after it) that ends a rendered prompt, as DeepSeek-R1-Distill's
 * generation prompt does (`<｜Assistant｜><think>\n`): the completion then starts inside the
 * reasoning, without its own `<think>`. '' when the prompt does not end with an open `<think>`.
 *
 * @param prompt - A prompt rendered by a chat template with the generation prompt.
 *
 * @example
 * ```ts
 * import { openThinkSuffix } from '@r1-ts/model';
 * console.log(JSON.stringify(openThinkSuffix('<｜User｜>1+1?<｜Assistant｜><think>\n'))); // '"<think>\\n"'
 * console.log(openThinkSuffix('<｜User｜>1+1?<｜Assistant｜>')); // ''
 * ```
 */
export function openThinkSuffix(prompt: string): string {
  const trimmed = prompt.trimEnd();
  return trimmed.endsWith(THINK) ? prompt.slice(trimmed.length - THINK.length) : '';
}

/**
 * A completion written in full R1 format (`<think>…`) made to follow a prompt that already opened
 * the `<think>` block ({@link openThinkSuffix}): its own opening tag is dropped so the tag is not
 * doubled. Unchanged when the prompt opened nothing or the completion has no opening tag.
 *
 * @param completion - A completion in R1 format, usually starting with `<think>`.
 * @param prompt - The rendered prompt it follows.
 *
 * @example
 * ```ts
 * import { afterOpenThink } from '@r1-ts/model';
 * console.log(afterOpenThink('<think>\n2+2=4</think>4', '<｜Assistant｜><think>\n')); // '2+2=4</think>4'
 * ```
 */
export function afterOpenThink(completion: string, prompt: string): string {
  const opened = openThinkSuffix(prompt);
  const t = completion.trimStart();
  if (!opened || !t.startsWith(THINK)) return completion;
  const rest = t.slice(THINK.length);
  const space = opened.slice(THINK.length);
  return rest.startsWith(space) ? rest.slice(space.length) : rest.trimStart();
}

const THINK = '<think>';
