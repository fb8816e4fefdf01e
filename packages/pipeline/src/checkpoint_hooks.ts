/**
 * Crash-test hook of the stage checkpoint writers: with `R1_TEST_PAUSE_IN_CHECKPOINT_WRITE=<ms>` in
 * the environment, every checkpoint write pauses that long after `model.safetensors` is in the
 * temporary directory and before the rest (and the rename) follow, so a test can kill the process
 * in the middle of a checkpoint write. Unset (the normal case), there is no hook.
 */
export function checkpointWriteHook(): ((file: string) => void) | undefined {
  const ms = Number(process.env.R1_TEST_PAUSE_IN_CHECKPOINT_WRITE ?? 0);
  if (!(ms > 0)) return undefined;
  return (file) => {
    if (file === 'model.safetensors') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  };
}
