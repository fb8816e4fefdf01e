// Public API of @r1-ts/rewards.
export {};
