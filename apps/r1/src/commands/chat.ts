import type { Command } from 'commander';

/** `r1 chat`: being written (issue #8). */
export function registerChat(program: Command): void {
  void program;
}
