import type { Command } from 'commander';

/** `r1 eval`: being written (issue #8). */
export function registerEval(program: Command): void {
  void program;
}
