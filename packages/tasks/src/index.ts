// Public API of @r1-ts/tasks.
export {};
