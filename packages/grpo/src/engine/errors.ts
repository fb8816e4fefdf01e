import { R1Error } from '@r1-ts/tensor-kernels';

/**
 * A rollout engine could not produce a request's completions: every server tried failed (network
 * error, timeout, HTTP 5xx, an answer that is not what was asked for), or a server refused the
 * request itself (HTTP 4xx: retrying elsewhere would not help). `attempts` says what each try got.
 *
 * @example
 * ```ts
 * import { EngineError } from '@r1-ts/grpo';
 * const e = new EngineError('request 3: every server failed', [{ server: 'http://a:8000', problem: 'timed out after 30000 ms' }]);
 * console.log(e.code, e.attempts.length); // E_ENGINE 1
 * ```
 */
export class EngineError extends R1Error {
  /**
   * @param message - What failed, e.g. which request and that every server was tried.
   * @param attempts - One entry per try: the server's URL and what it answered (timeout, HTTP status, malformed reply). Default none.
   */
  constructor(
    message: string,
    /** One entry per try: the server and what went wrong. */
    readonly attempts: readonly { server: string; problem: string }[] = [],
  ) {
    super('E_ENGINE', attempts.length ? `${message}\n  ${attempts.map((a) => `${a.server}: ${a.problem}`).join('\n  ')}` : message);
  }
}
