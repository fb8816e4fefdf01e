/** Exit codes of the `r1` CLI (documented in the README). */
export const EXIT = {
  ok: 0,
  /** A failed check (golden mismatch) or a runtime error. */
  failure: 1,
  /** Invalid config, flags or input: nothing was written. */
  config: 2,
} as const;
