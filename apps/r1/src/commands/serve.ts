import type { Command } from 'commander';

/** `r1 serve`: being written (issue #8). */
export function registerServe(program: Command): void {
  void program;
}
