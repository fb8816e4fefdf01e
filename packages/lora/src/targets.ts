import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@r1-ts/tensor-kernels';
import type { LoraConfig } from './config';

/**
 * A linear layer of a model as LoRA sees it: its module name (the HF parameter name without
 * `.weight`) and its weight variable [out, in].
 *
 * @example
 * ```ts
 * import type { LinearTarget } from '@r1-ts/lora';
 * declare const t: LinearTarget;
 * console.log(t.module, t.weight.shape); // model.layers.0.self_attn.q_proj [out, in]
 * ```
 */
export interface LinearTarget {
  module: string;
  weight: tf.Variable;
}

// 2-D weights that are not nn.Linear in a causal LM (embeddings), and the output head, which
// PEFT's `all-linear` leaves out too.
const NOT_LINEAR = /(^|\.)(embed_tokens|wte|wpe|embeddings?|shared_head\.head|lm_head|embed_out|output)$/;

/**
 * Why a 2-D weight of `parameters` is no nn.Linear in transformers' modelling (so PEFT can never adapt
 * it and neither do we, keeping adapters interchangeable), or null. DeepSeek V2/V3/V3.2 in
 * transformers ≥ 5: the MoE router is a bare parameter (`TopkRouter.weight`), the routed experts are
 * fused 3-D parameters (`Experts.gate_up_proj`/`down_proj`), and the MTP layer (the one holding
 * `eh_proj`) is dropped on load.
 */
function notPeftLinear(module: string, parameters: Map<string, tf.Variable>, mtpLayers: Set<string>): string | null {
  const expert = /^(.*\.mlp)\.experts\.\d+\.(gate|up|down)_proj$/.exec(module);
  if (expert) return 'a routed MoE expert (transformers fuses the experts into 3-D parameters, which target_modules cannot select)';
  const router = /^(.*\.mlp)\.gate$/.exec(module);
  if (router && parameters.has(`${router[1]}.experts.0.gate_proj.weight`)) return 'the MoE router (a bare parameter in transformers, no nn.Linear)';
  for (const layer of mtpLayers) if (module.startsWith(`${layer}.`)) return 'in the multi-token-prediction layer (transformers does not load it)';
  return null;
}

/** PEFT's rule: a name target matches a module whose name equals it or ends in `.<target>`. */
function matchesName(module: string, target: string): boolean {
  return module === target || module.endsWith(`.${target}`);
}

function matches(module: string, spec: string[] | string): boolean {
  if (Array.isArray(spec)) return spec.some((t) => matchesName(module, t));
  // A single string is a regular expression over the whole module name (PEFT's re.fullmatch).
  return new RegExp(`^(?:${spec})$`).test(module);
}

/**
 * The linear layers of `parameters` (a Module's `namedParameters()`) that `config` targets, in
 * parameter order. Every 2-D `*.weight` counts as a linear layer except embeddings and the output
 * head (`lm_head`), which `all-linear` skips as PEFT does but an explicit name may still pick, and
 * weights that are no nn.Linear in transformers (DeepSeek's MoE router, routed experts and MTP
 * layer), which nothing selects.
 * Throws ConfigError naming every target module that matched nothing (with the modules that exist).
 *
 * @param parameters - A model's named parameters (`namedParameters()`), HF names → variables.
 * @param config - `target_modules` (`all-linear`, a list of module names, or a regex string) and `exclude_modules` (the same forms, or null).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { parseLoraConfig, resolveTargets } from '@r1-ts/lora';
 * const params = new Map([['layers.0.q_proj.weight', tf.variable(tf.zeros([4, 4]))], ['layers.0.norm.weight', tf.variable(tf.ones([4]))]]);
 * console.log(resolveTargets(params, parseLoraConfig({ r: 2, target_modules: ['q_proj'] })).map((t) => t.module)); // ['layers.0.q_proj']
 * ```
 */
export function resolveTargets(parameters: Map<string, tf.Variable>, config: Pick<LoraConfig, 'target_modules' | 'exclude_modules'>): LinearTarget[] {
  const mtpLayers = new Set([...parameters.keys()].filter((n) => n.endsWith('.eh_proj.weight')).map((n) => n.slice(0, -'.eh_proj.weight'.length)));
  const linears: LinearTarget[] = [];
  const unreachable = new Map<string, string>(); // module → why PEFT cannot adapt it
  for (const [name, weight] of parameters) {
    if (!name.endsWith('.weight') || weight.rank !== 2) continue;
    const module = name.slice(0, -'.weight'.length);
    const why = notPeftLinear(module, parameters, mtpLayers);
    if (why) unreachable.set(module, why);
    else linears.push({ module, weight });
  }
  const spec = config.target_modules;
  const excluded = (m: string) => config.exclude_modules !== null && matches(m, config.exclude_modules);
  let chosen: LinearTarget[];
  if (spec === 'all-linear') chosen = linears.filter((l) => !NOT_LINEAR.test(l.module));
  else {
    try {
      chosen = linears.filter((l) => matches(l.module, spec));
    } catch (e) {
      throw new ConfigError(`target_modules ${JSON.stringify(spec)} is not a valid regular expression: ${(e as Error).message}`, ['target_modules']);
    }
    const missing = (Array.isArray(spec) ? spec : [spec]).filter((t) => !chosen.some((l) => (Array.isArray(spec) ? matchesName(l.module, t) : true)));
    if (missing.length) {
      const names = [...new Set(linears.map((l) => l.module.split('.').pop()))].join(', ');
      const skipped = [...unreachable].find(([m]) => matches(m, Array.isArray(spec) ? missing : spec));
      const why = skipped ? ` (${skipped[0]} is ${skipped[1]})` : '';
      throw new ConfigError(`target_modules: ${missing.map((m) => JSON.stringify(m)).join(', ')} not found in the model${why}; its linear layers are named ${names || '(none)'}`, ['target_modules']);
    }
  }
  chosen = chosen.filter((l) => !excluded(l.module));
  if (chosen.length === 0) throw new ConfigError(`target_modules ${JSON.stringify(spec)} selects no linear layer of the model (after exclude_modules)`, ['target_modules']);
  return chosen;
}
