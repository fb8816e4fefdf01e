// Public API of @r1-ts/gspo.
export {};
