// The body of the sandbox worker thread. It is serialised with Function.prototype.toString and run
// with `new Worker(source, { eval: true })`, so it must be self-contained: no imports, no outer
// identifiers, no syntax that needs a compiler helper. It only runs code in QuickJS and reports raw
// outcomes; the host classifies and compares them.
//
// Containment, beyond QuickJS's own interrupt and stack limits:
// - Memory. QuickJS's malloc limit only sees single allocations in this build (no malloc_usable_size
//   under Emscripten, so its running total never grows): strings, arrays and typed arrays could grow
//   the WASM heap to 2 GiB. Each module therefore gets its own WebAssembly.Memory whose `maximum` is
//   the test's limit plus a fixed base, so every allocation past it fails inside malloc and QuickJS
//   throws "out of memory", wherever it happens (also between interrupt polls).
// - Clocks. QuickJS reads time only through Emscripten's `emscripten_date_now`, which calls this
//   thread's `Date.now`; it is frozen at SANDBOX_EPOCH_MS so `Date.now()`, `new Date()` and `Date()`
//   all read the same instant: the sandbox can neither time the host nor busy-wait on a clock. The
//   CPU deadline reads this thread's CPU time (or `performance.now`), which the sandbox cannot reach.
// - Jobs. Promise jobs are never run (no `executePendingJobs`): the verdict is the value the code
//   returned synchronously, and whatever was queued is freed with the runtime, unrun.

/** A request to the sandbox worker. */
export interface SandboxRequest {
  id: number;
  prelude: string;
  solution: string;
  /** `'assert'`: run `code` as statements; `'expr'`: evaluate it and encode the value. */
  mode: 'assert' | 'expr';
  code: string;
  timeoutMs: number;
  memoryLimitBytes: number;
  maxStackBytes: number;
}

/** The worker's raw answer. */
export type SandboxResponse =
  | { id: number; status: 'ok'; encoded: string | null; tid?: number | null }
  | { id: number; status: 'vm-error'; stage: 'load' | 'test'; name: string; message: string }
  | { id: number; status: 'fault'; message: string };

interface Port {
  on(event: 'message', cb: (req: SandboxRequest) => void): void;
  postMessage(msg: SandboxResponse): void;
}

/**
 * Runs in the worker: `port` is `parentPort`, `qjs` the `quickjs-emscripten` module, `requireFn` the
 * worker's require, `tid` its OS thread id (null off Linux).
 */
export function sandboxWorkerMain(port: Port, qjs: any, requireFn: (id: string) => any, tid: number | null): void {
  const SANDBOX_EPOCH_MS = 1704067200000; // 2024-01-01T00:00:00Z: every clock read in the sandbox
  const PAGE = 65536;
  const INITIAL_PAGES = 256; // the module's own INITIAL_MEMORY (16 MiB): static data, stack, runtime
  const BASE_BYTES = 32 * 1048576; // room for the above plus allocator slack, on top of the test's limit
  const MAX_MESSAGE_CHARS = 2000;
  Date.now = () => SANDBOX_EPOCH_MS;
  // One module per memory limit (the cap is fixed when the Memory is made); two kept at most.
  const modules = new Map<number, Promise<any>>();
  const getModule = (limit: number): Promise<any> => {
    const cached = modules.get(limit);
    if (cached) return cached;
    if (modules.size >= 2) modules.delete(modules.keys().next().value as number);
    const memory = new (globalThis as any).WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: Math.ceil((limit + BASE_BYTES) / PAGE) });
    const made = qjs.newQuickJSWASMModule(qjs.newVariant(qjs.RELEASE_SYNC, { wasmMemory: memory })).then((mod: any) => {
      // A warm-up run lets V8 compile the interpreter's hot paths outside any test's deadline.
      const ctx = mod.newContext();
      ctx.evalCode('let s = 0; for (let i = 0; i < 200000; i++) s += JSON.stringify([i]).length; s', 'warmup.js', { type: 'global' }).dispose();
      ctx.dispose();
      return mod;
    });
    modules.set(limit, made);
    return made;
  };
  const DEFAULT_LIMIT = 64 * 1048576;
  // Ready signal (id -1) once the default module is loaded, so start-up does not eat a test's deadline.
  getModule(DEFAULT_LIMIT).then(() => port.postMessage({ id: -1, status: 'ok', encoded: null, tid }));
  // The CPU deadline counts this thread's CPU time (Linux: /proc/thread-self/schedstat), so a
  // program's verdict does not depend on how busy the machine is; wall time where it cannot be read.
  // CPU time never outruns wall time, so /proc is read only once the wall clock has passed the budget.
  const fs = requireFn('node:fs');
  const cpuMs = (): number | null => {
    try {
      const ns = Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
      return Number.isFinite(ns) ? ns / 1e6 : null;
    } catch {
      return null;
    }
  };
  const hasCpuClock = cpuMs() !== null;
  let budgetMs = 0;
  let wallStart = 0;
  let cpuStart = 0;
  let nextCheck = 0;
  const startBudget = (ms: number) => {
    budgetMs = ms;
    wallStart = performance.now();
    cpuStart = hasCpuClock ? (cpuMs() ?? 0) : 0;
    nextCheck = 0;
  };
  const overBudget = (): boolean => {
    const now = performance.now();
    if (now - wallStart <= budgetMs || now < nextCheck) return false;
    nextCheck = now + 2;
    const cpu = hasCpuClock ? cpuMs() : null;
    return (cpu === null ? now - wallStart : cpu - cpuStart) > budgetMs;
  };
  port.on('message', async (req) => {
    const mod = await getModule(req.memoryLimitBytes);
    const runtime = mod.newRuntime();
    const handles: any[] = [];
    let ctx: any = null;
    let faulted = false;
    let harness: any = null;
    const readShortString = (h: any, key: string): string | null => {
      const v = ctx.getProp(h, key);
      try {
        if (ctx.typeof(v) !== 'string') return null;
        const len = ctx.getProp(v, 'length');
        const n = ctx.getNumber(len);
        len.dispose();
        return n <= MAX_MESSAGE_CHARS ? ctx.getString(v) : null;
      } finally {
        v.dispose();
      }
    };
    const clip = (s: string) => (s.length > MAX_MESSAGE_CHARS ? s.slice(0, MAX_MESSAGE_CHARS) + '…' : s);
    // Reads an error's name and message inside the sandbox with the prelude's captured intrinsics,
    // clipped there (a thrown 50 MB message never crosses), under a fresh short deadline (getters run).
    const vmError = (stage: 'load' | 'test', handle: any): SandboxResponse => {
      let name = 'Error';
      let message = 'unreadable error';
      const saved = [budgetMs, wallStart, cpuStart];
      startBudget(100);
      try {
        const describe = ctx.getProp(harness, 'describe');
        const d = ctx.callFunction(describe, ctx.undefined, handle, ctx.newNumber(MAX_MESSAGE_CHARS));
        describe.dispose();
        if (!d.error) {
          const parsed = JSON.parse(ctx.getString(d.value));
          d.value.dispose();
          name = clip(String(parsed.name));
          message = clip(String(parsed.message));
        } else {
          // e.g. no memory left to describe it: read own string properties directly, if short
          d.error.dispose();
          name = readShortString(handle, 'name') ?? name;
          message = readShortString(handle, 'message') ?? message;
        }
      } catch {
        // an interrupted getter: keep the generic name and message
      }
      [budgetMs, wallStart, cpuStart] = saved;
      handle.dispose();
      return { id: req.id, status: 'vm-error', stage, name, message };
    };
    try {
      runtime.setMemoryLimit(req.memoryLimitBytes);
      runtime.setMaxStackSize(req.maxStackBytes);
      startBudget(req.timeoutMs);
      runtime.setInterruptHandler(overBudget);
      ctx = runtime.newContext();
      const steps: Array<[string, string, 'load' | 'test']> = [
        [req.prelude, 'prelude.js', 'load'],
        [req.solution, 'solution.js', 'load'],
      ];
      for (const [code, file, stage] of steps) {
        const r = ctx.evalCode(code, file, { type: 'global' });
        if (r.error) return port.postMessage(vmError(stage, r.error));
        handles.push(r.value);
        if (harness === null) harness = r.value;
      }
      const install = ctx.getProp(harness, 'installAssert');
      handles.push(install);
      const installed = ctx.callFunction(install, ctx.undefined);
      if (installed.error) return port.postMessage(vmError('load', installed.error));
      handles.push(installed.value);
      const r = ctx.evalCode(req.code, 'test.js', { type: 'global' });
      if (r.error) return port.postMessage(vmError('test', r.error));
      handles.push(r.value);
      if (req.mode === 'assert') return port.postMessage({ id: req.id, status: 'ok', encoded: null });
      const encode = ctx.getProp(harness, 'encode');
      handles.push(encode);
      const enc = ctx.callFunction(encode, ctx.undefined, r.value);
      if (enc.error) return port.postMessage(vmError('test', enc.error));
      handles.push(enc.value);
      port.postMessage({ id: req.id, status: 'ok', encoded: ctx.getString(enc.value) });
    } catch (e) {
      // A fault of the WASM instance itself (e.g. this thread's stack overflowing inside it, or an
      // allocation failing where QuickJS cannot throw): drop the instance so the next request gets a
      // fresh one.
      faulted = true;
      modules.delete(req.memoryLimitBytes);
      port.postMessage({ id: req.id, status: 'fault', message: e instanceof Error ? e.name + ': ' + e.message : String(e) });
    } finally {
      if (!faulted) {
        try {
          for (const h of handles.reverse()) if (h.alive) h.dispose();
          if (ctx !== null) ctx.dispose(); // pending Promise jobs are freed here, never run
          runtime.dispose();
        } catch (e) {
          modules.delete(req.memoryLimitBytes);
        }
      }
    }
  });
}
