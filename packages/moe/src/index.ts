// Public API of @r1-ts/moe.
export {};
