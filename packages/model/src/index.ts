// Public API of @r1-ts/model.
export {};
