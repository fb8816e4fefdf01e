// Public API of @r1-ts/grpo.
export {};
