// The body of a Python sandbox worker thread: CPython (Pyodide, WebAssembly) with the harness of
// harness.ts. Serialised with Function.prototype.toString and run with `new Worker(source, { eval:
// true })`, so it must be self-contained: no imports, no outer identifiers.
//
// Containment:
// - Memory. Every growth of a WebAssembly memory in this thread goes through the patched
//   `Memory.prototype.grow`, refused past `memoryCapBytes`: malloc fails inside the interpreter,
//   Python raises MemoryError, and the test is reported as memory-limit even if the program catches
//   it. A size limit, so the verdict does not depend on how fast the machine is.
// - Reset. After setup the whole linear memory (the C heap, every Python object, the harness) is
//   copied; after each program it is copied back, so the next program starts from exactly the same
//   interpreter, whatever the last one patched (builtins, modules, sys, the harness itself). The
//   parts that live in JavaScript are reset too: /tmp and the home directory are fresh in-memory
//   file systems, the rest of the file system refuses writes, open files are closed.
// - No way out. The JavaScript modules (`js`, `pyodide_js`) are unregistered and the FFI modules
//   dropped in Python; in JavaScript, code generation from strings (eval, the Function
//   constructors), stack-trace hooks, `process`' native bindings and every network global are
//   removed before any program runs, so even a JsProxy reached through the garbage collector
//   cannot compile or reach anything. Pyodide's file system is in memory; no host directory is
//   mounted and NODEFS is removed.
// - Output. Output written at the file-descriptor level (os.write(1, …)) is counted and dropped.
//   Files (JavaScript memory) count against the memory limit.

/** What the host sends at start-up (as workerData). */
export interface PythonWorkerInit {
  indexURL: string;
  wasmModule: unknown;
  wasmBytes: number;
  /** A Pyodide memory snapshot to start from; absent for the first worker, which makes one. */
  snapshot: Uint8Array | null;
  memoryCapBytes: number;
  /** Bytes that files in the scratch directories may hold. */
  fileQuotaBytes: number;
  harness: string;
}

/** One test as the worker runs it. */
export interface PythonWorkerTest {
  mode: 'stdio' | 'call' | 'assert';
  stdin: string;
  fn: string;
  argsJson: string;
  snippet: string;
}

/** Host → worker. */
export interface PythonWorkerRequest {
  id: number;
  code: string;
  tests: PythonWorkerTest[];
  maxOutputChars: number;
}

/** The harness's raw outcome of one test (see harness.ts). */
export interface PythonOutcome {
  status: 'ok' | 'error';
  stage?: 'load' | 'test';
  type?: string;
  message?: string;
  stdout?: string;
  value?: string;
}

/** Worker → host. */
export type PythonWorkerMessage =
  | { kind: 'ready'; tid: number | null; snapshot: Uint8Array | null }
  | { kind: 'start-failed'; message: string }
  | { kind: 'test'; id: number; index: number; outcome: PythonOutcome; memoryLimitHit: boolean }
  | { kind: 'done'; id: number; heapBytes: number; healthy: boolean };

interface Port {
  on(event: 'message', cb: (req: PythonWorkerRequest) => void): void;
  postMessage(msg: PythonWorkerMessage, transfer?: ArrayBuffer[]): void;
}

/** Runs in the worker: `port` is `parentPort`, `init` the workerData, `req` the worker's require. */
export function pythonWorkerMain(port: Port, init: PythonWorkerInit, req: (id: string) => any, tid: number | null): void {
  const WA = (globalThis as any).WebAssembly;
  let capHit = false;
  let fileBytes = 0; // bytes held by files in the scratch directories
  const grow = WA.Memory.prototype.grow;
  WA.Memory.prototype.grow = function (this: any, delta: number) {
    if (this.buffer.byteLength + delta * 65536 > init.memoryCapBytes) {
      capHit = true;
      throw new RangeError('sandbox memory limit');
    }
    return grow.call(this, delta);
  };
  // The interpreter's system calls into JavaScript, filtered where they are made: the WebAssembly
  // imports. Emscripten implements system() with the host's child_process and sockets over the
  // network in Node; here they fail as "permission denied" (-EACCES), no side module loads and no
  // interval timer is armed.
  let ffiUsed = false;
  const EACCES = 2;
  const denied: Record<string, (...a: any[]) => number> = {
    _emscripten_system: () => -1,
    getaddrinfo: () => -2, // EAI_NONAME
    getnameinfo: () => -2,
    _emscripten_lookup_name: () => 0,
    getprotobyname: () => 0,
    _dlopen_js: () => 0,
    _emscripten_dlopen_js: () => 0,
    // A JavaScript timer that would deliver SIGALRM later, maybe into the next program.
    _setitimer_js: () => 0,
  };
  for (const name of ['socket', 'connect', 'bind', 'listen', 'accept4', 'sendto', 'recvfrom', 'sendmsg', 'recvmsg', 'getsockname', 'getpeername', 'getsockopt']) {
    denied[`__syscall_${name}`] = () => -EACCES;
  }
  const FFI = /^(_?_?hiwire|Jsv?[A-Z_]|JsProxy|JsArray|JsMap|JsObjMap|JsBuffer|JsDoubleProxy|JsException|JsModule|pyproxy|_pyproxy|js2python|_?python2js|raw_call_js|create_once_callable|destroy_prox|wrap_(async_)?generator|proxy_cache)/;
  const filterImports = (imports: any) => {
    const env = imports?.env;
    if (!env) return;
    for (const name of Object.keys(env)) {
      if (name in denied) env[name] = denied[name];
      else if (FFI.test(name) && typeof env[name] === 'function') {
        const real = env[name];
        env[name] = function (this: unknown, ...args: unknown[]) {
          ffiUsed = true;
          return real.apply(this, args);
        };
      }
    }
  };
  // Instantiate from the host's compiled module instead of compiling the same 8 MB again.
  const instantiate = WA.instantiate;
  WA.instantiate = function (src: any, imports: any) {
    filterImports(imports);
    if (init.wasmModule && src && !(src instanceof WA.Module) && src.byteLength === init.wasmBytes) {
      return instantiate.call(WA, init.wasmModule, imports).then((instance: any) => ({ instance, module: init.wasmModule }));
    }
    return instantiate.call(WA, src, imports);
  };

  const start = async () => {
    // Everything loads from the package directory: with no fetch, a download attempt fails the start.
    const g = globalThis as any;
    for (const name of ['fetch', 'WebSocket', 'XMLHttpRequest']) g[name] = undefined;
    const { loadPyodide } = req('pyodide');
    const quiet = { write: (b: Uint8Array) => b.length };
    const options: any = { indexURL: init.indexURL, stdout: () => {}, stderr: () => {}, stdin: () => null, checkAPIVersion: true };
    if (init.snapshot) options._loadSnapshot = init.snapshot;
    else options._makeSnapshot = true;
    const py = await loadPyodide(options);
    const snapshot: Uint8Array | null = init.snapshot ? null : py.makeMemorySnapshot();
    py.setStdout(quiet);
    py.setStderr(quiet);
    py.setStdin({ error: true });
    py.unregisterJsModule('js');
    py.unregisterJsModule('pyodide_js');

    // File system: writable only under fresh in-memory /tmp and home, reset after each program.
    const FS = py.FS;
    const HOME = '/home/pyodide';
    const EXCHANGE = '/r1'; // request and response files of the harness (harness.ts)
    FS.mkdir(EXCHANGE);
    const scratch = ['/tmp', HOME, EXCHANGE];
    const mountScratch = () => {
      for (const dir of scratch) {
        try {
          FS.unmount(dir);
        } catch {
          // not mounted yet
        }
        FS.mount(FS.filesystems.MEMFS, {}, dir);
      }
      FS.chdir(HOME);
    };
    mountScratch();
    const scratchMounts = () => new Set(scratch.map((d: string) => FS.lookupPath(d).node.mount));
    let writable = scratchMounts();
    const nodePermissions = FS.nodePermissions;
    FS.nodePermissions = (node: any, perms: string) => {
      if (perms.includes('w') && !writable.has(node.mount)) return 2; // EACCES
      return nodePermissions(node, perms);
    };
    // Files live in JavaScript memory, outside the WebAssembly cap: what the scratch directories
    // hold has its own quota, and a write past it fails with ENOSPC (memory-limit).
    const MEMFS = FS.filesystems.MEMFS;
    const ENOSPC = 51;
    const charge = (node: any) => {
      const size = node?.contents ? node.contents.length : 0;
      const before = node?.r1Charged ?? 0;
      fileBytes += size - before;
      if (node) node.r1Charged = size;
      if (fileBytes > init.fileQuotaBytes) {
        fileBytes -= size;
        node.r1Charged = 0;
        node.contents = null;
        node.usedBytes = 0;
        capHit = true;
        throw new FS.ErrnoError(ENOSPC);
      }
    };
    const charged = (fn: (...a: any[]) => any) =>
      function (this: unknown, ...args: any[]) {
        const result = fn.apply(this, args);
        charge(args[0]?.node);
        return result;
      };
    const write = charged(MEMFS.stream_ops.write);
    const allocate = charged(MEMFS.stream_ops.allocate);
    MEMFS.stream_ops.write = MEMFS.ops_table.file.stream.write = write;
    MEMFS.stream_ops.allocate = MEMFS.ops_table.file.stream.allocate = allocate;
    const resize = MEMFS.resizeFileStorage;
    MEMFS.resizeFileStorage = function (node: any, size: number) {
      resize.call(this, node, size);
      charge(node);
    };
    for (const name of Object.keys(FS.filesystems)) if (name !== 'MEMFS') delete FS.filesystems[name];
    const baseStreams = new Set(FS.streams.map((s: any, fd: number) => (s ? fd : -1)).filter((fd: number) => fd >= 0));

    py.runPython(init.harness);
    // The host talks to the harness through files and PyRun_SimpleString, never through Pyodide's
    // FFI, so any use of the FFI during a program is the program's (see ffiUsed).
    const M = py._module;
    const step = (request: object): PythonOutcome => {
      FS.writeFile(`${EXCHANGE}/request.json`, JSON.stringify(request));
      const src = M.stringToNewUTF8('_r1_step()');
      try {
        M._PyRun_SimpleString(src);
      } finally {
        M._free(src);
      }
      try {
        const text = FS.readFile(`${EXCHANGE}/response.json`, { encoding: 'utf8' });
        FS.unlink(`${EXCHANGE}/response.json`);
        return JSON.parse(text) as PythonOutcome;
      } catch {
        return { status: 'error', stage: 'test', type: 'HarnessError', message: 'the harness wrote no outcome' };
      }
    };
    const heap = () => py._module.HEAPU8 as Uint8Array;
    const saved = heap().slice();
    const restore = () => {
      heap().set(saved);
      for (let fd = 0; fd < FS.streams.length; fd++) {
        if (FS.streams[fd] && !baseStreams.has(fd)) {
          try {
            FS.close(FS.streams[fd]);
          } catch {
            FS.streams[fd] = null;
          }
        }
      }
      mountScratch();
      writable = scratchMounts();
      capHit = false;
      ffiUsed = false;
      fileBytes = 0;
    };

    lockdown();
    ffiUsed = false;
    port.postMessage({ kind: 'ready', tid, snapshot }, snapshot ? [snapshot.buffer as ArrayBuffer] : []);

    port.on('message', (r: PythonWorkerRequest) => {
      let healthy = true;
      try {
        const prepared = step({ op: 'prepare', code: r.code });
        for (let i = 0; i < r.tests.length; i++) {
          const t = r.tests[i];
          capHit = false; // per test: a later test that fits is not blamed for an earlier one
          const outcome =
            prepared.status === 'ok'
              ? step({ op: 'run', ...t, maxChars: r.maxOutputChars })
              : prepared;
          port.postMessage({ kind: 'test', id: r.id, index: i, outcome, memoryLimitHit: capHit });
        }
      } catch (e) {
        // The interpreter itself failed (a fatal error, os._exit, a stack overflow in C): report it
        // for the test in progress; the host replaces this worker.
        healthy = false;
        const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        port.postMessage({ kind: 'test', id: r.id, index: -1, outcome: { status: 'error', stage: 'test', type: 'InterpreterFault', message: message.slice(0, 2000) }, memoryLimitHit: capHit });
      }
      const heapBytes = heap().length;
      // A program that reached the JavaScript FFI (blocked as it is) may have left JavaScript-side
      // references that the memory restore cannot rewind: this worker is not reused.
      if (ffiUsed) healthy = false;
      if (healthy) {
        try {
          restore();
        } catch {
          healthy = false;
        }
      }
      port.postMessage({ kind: 'done', id: r.id, heapBytes, healthy });
    });
  };

  /** Removes what compiled JavaScript could use to reach the host. Runs after Pyodide has loaded. */
  function lockdown(): void {
    const g = globalThis as any;
    const refuse = function () {
      throw new EvalError('code generation is disabled in the sandbox');
    };
    const fnProtos = [function () {}, function* () {}, async function () {}, async function* () {}].map((f) => Object.getPrototypeOf(f));
    for (const proto of fnProtos) Object.defineProperty(proto, 'constructor', { value: refuse, writable: false, configurable: false });
    Object.defineProperty(g, 'eval', { value: refuse, writable: false, configurable: false });
    Object.defineProperty(g, 'Function', { value: refuse, writable: false, configurable: false });
    Object.defineProperty(g.Error, 'prepareStackTrace', { value: undefined, writable: false, configurable: false });
    const noop = () => {};
    g.console = { log: noop, info: noop, warn: noop, error: noop, debug: noop, trace: noop }; // Pyodide's fatal-error banner
    for (const name of ['fetch', 'WebSocket', 'XMLHttpRequest', 'EventSource', 'Request', 'Response', 'Headers', 'FormData', 'require', 'module', 'process', 'Buffer', 'navigator', 'BroadcastChannel', 'MessageChannel', 'MessagePort', 'Worker']) {
      try {
        Object.defineProperty(g, name, { value: undefined, writable: false, configurable: false });
      } catch {
        // already non-configurable
      }
    }
  }

  start().catch((e: unknown) => port.postMessage({ kind: 'start-failed', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }));
}
