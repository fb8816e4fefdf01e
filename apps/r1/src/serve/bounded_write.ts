/** The part of a response stream {@link boundedWriter} uses. */
export interface WritableLike {
  write(chunk: string): unknown;
  destroy(): unknown;
  readonly writableLength: number;
  readonly destroyed: boolean;
}

/**
 * A writer that never waits for its reader — the engine loop streams to every request from one thread,
 * so awaiting one client's 'drain' would stall all of them — and drops a reader that falls more than
 * `maxBytes` behind (bytes accepted but not yet handed to the socket) instead of buffering without
 * bound: it destroys the stream (its 'close' aborts the request, freeing its batch rows) and calls
 * `onDrop` once. Returns whether the text was written.
 *
 * @example
 * ```ts
 * const send = boundedWriter(res, 4 << 20, () => stats.slowDisconnects++);
 * send(`data: ${JSON.stringify(chunk)}\n\n`);
 * ```
 */
export function boundedWriter(res: WritableLike, maxBytes: number, onDrop: () => void): (text: string) => boolean {
  return (text) => {
    if (res.destroyed) return false;
    res.write(text);
    if (res.writableLength > maxBytes) {
      onDrop();
      res.destroy();
    }
    return true;
  };
}
