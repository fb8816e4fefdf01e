// Public API of @r1-ts/pipeline.
export {};
