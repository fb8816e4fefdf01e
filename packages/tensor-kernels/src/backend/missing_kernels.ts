// Kernels the wasm backend lacks that training needs (registered by register_all.ts).
export {};
