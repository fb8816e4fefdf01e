// Public API of @r1-ts/attention-dsa.
export {};
