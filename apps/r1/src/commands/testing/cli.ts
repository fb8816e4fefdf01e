// The `r1` CLI from source, as the tests run it: in a child process (node + tsx, resolving the
// sibling packages' sources), so exit codes, stdout and signals are the real ones.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

/** The repository root. */
export const repoRoot = resolve(__dirname, '../../../../..');
const bin = join(repoRoot, 'apps/r1/src/bin.ts');
const nodeArgs = ['--conditions=@r1-ts/source', '--import', 'tsx', bin];

/** Starts `r1 <args>` (stdio piped); the caller owns the child. */
export function spawnR1(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, ...args], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs `r1 <args>` to completion (stdin fed from `stdin`); its exit status and output. */
export function runR1(args: string[], stdin = ''): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawnR1(args);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('close', (status) => done({ status, stdout, stderr }));
    child.stdin!.end(stdin);
  });
}

/** `runR1` without an event loop: for sequential tests with a hard timeout. */
export function runR1Sync(args: string[], timeoutMs = 300_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...nodeArgs, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Starts `r1 serve <checkpoint> --port 0 --name tiny --backend <backend>` and resolves with the child
 * and its base URL once it listens; rejects when it exits first or does not listen in `timeoutMs`.
 */
export function startServe(checkpoint: string, options: { backend?: string; extra?: string[]; timeoutMs?: number } = {}): Promise<{ child: ChildProcess; url: string }> {
  const { backend = 'cpu', extra = [], timeoutMs = 120_000 } = options;
  const child = spawnR1(['serve', checkpoint, '--port', '0', '--name', 'tiny', '--backend', backend, ...extra]);
  child.stdin!.end();
  return new Promise((done, fail) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`r1 serve did not start in ${timeoutMs / 1000} s:\n${out}\n${err}`)), timeoutMs);
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /on (http:\/\/\S+)\/v1/.exec(out);
      if (m) {
        clearTimeout(timer);
        done({ child, url: m[1] });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`r1 serve exited with ${code}:\n${err}`));
    });
  });
}
