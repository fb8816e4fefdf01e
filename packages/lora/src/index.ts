// Public API of @r1-ts/lora: LoRA adapters on any model's linear layers, in PEFT's format.
export { parseLoraConfig, loraConfigFromPeft, peftAdapterConfig, loraScale } from './config';
export type { LoraConfig, LoraConfigInput } from './config';
export { resolveTargets } from './targets';
export type { LinearTarget } from './targets';
export { LoraModel } from './lora';
export type { LoraLayer, LoraAttachOptions, NamedParameters } from './lora';
export { saveAdapter, loadAdapter, readAdapterConfig, assignAdapterTensors, ADAPTER_CONFIG, ADAPTER_WEIGHTS } from './peft';
export { LoraPolicy } from './policy';
export type { BasePolicy } from './policy';
