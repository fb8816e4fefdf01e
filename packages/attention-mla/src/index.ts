// Public API of @r1-ts/attention-mla.
export {};
