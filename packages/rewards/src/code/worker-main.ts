// The body of the sandbox worker thread. It is serialised with Function.prototype.toString and run
// with `new Worker(source, { eval: true })`, so it must be self-contained: no imports, no outer
// identifiers, no syntax that needs a compiler helper. It only runs code in QuickJS and reports raw
// outcomes; the host classifies and compares them.

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
  | { id: number; status: 'ok'; encoded: string | null }
  | { id: number; status: 'vm-error'; stage: 'load' | 'test'; name: string; message: string }
  | { id: number; status: 'fault'; message: string };

interface Port {
  on(event: 'message', cb: (req: SandboxRequest) => void): void;
  postMessage(msg: SandboxResponse): void;
}

/** Runs in the worker: `port` is `parentPort`, `qjs` the `quickjs-emscripten` module. */
export function sandboxWorkerMain(port: Port, qjs: any): void {
  let modulePromise: Promise<any> | null = qjs.newQuickJSWASMModule();
  // Ready signal (id -1) once the WASM module is loaded, so start-up does not eat a test's deadline.
  // A warm-up run first lets V8 compile the interpreter's hot paths outside any test's deadline.
  modulePromise!.then((mod) => {
    const ctx = mod.newContext();
    ctx.evalCode('let s = 0; for (let i = 0; i < 200000; i++) s += JSON.stringify([i]).length; s', 'warmup.js', { type: 'global' }).dispose();
    ctx.dispose();
    port.postMessage({ id: -1, status: 'ok', encoded: null });
  });
  port.on('message', async (req) => {
    if (modulePromise === null) modulePromise = qjs.newQuickJSWASMModule();
    const mod = await modulePromise;
    const runtime = mod.newRuntime();
    const handles: any[] = [];
    let ctx: any = null;
    let faulted = false;
    const vmError = (stage: 'load' | 'test', handle: any): SandboxResponse => {
      const err = ctx.dump(handle);
      handle.dispose();
      const isObj = typeof err === 'object' && err !== null;
      return { id: req.id, status: 'vm-error', stage, name: isObj && 'name' in err ? String(err.name) : 'Error', message: isObj && 'message' in err ? String(err.message) : String(err) };
    };
    try {
      runtime.setMemoryLimit(req.memoryLimitBytes);
      runtime.setMaxStackSize(req.maxStackBytes);
      runtime.setInterruptHandler(qjs.shouldInterruptAfterDeadline(Date.now() + req.timeoutMs));
      ctx = runtime.newContext();
      const steps: Array<[string, string, 'load' | 'test']> = [
        [req.prelude, 'prelude.js', 'load'],
        [req.solution, 'solution.js', 'load'],
      ];
      let harness: any = null;
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
      // A fault of the WASM instance itself (e.g. this thread's stack overflowing inside it): drop the
      // instance so the next request gets a fresh one.
      faulted = true;
      modulePromise = null;
      port.postMessage({ id: req.id, status: 'fault', message: e instanceof Error ? e.name + ': ' + e.message : String(e) });
    } finally {
      if (!faulted) {
        try {
          for (const h of handles.reverse()) if (h.alive) h.dispose();
          if (ctx !== null) ctx.dispose();
          runtime.dispose();
        } catch (e) {
          modulePromise = null;
        }
      }
    }
  });
}
