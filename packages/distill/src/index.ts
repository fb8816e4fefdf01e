// Public API of @r1-ts/distill.
export {};
