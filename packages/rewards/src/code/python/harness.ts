// The Python side of the sandbox: run once in every interpreter before its memory is saved (see
// worker-main.ts), so every program starts from exactly this state. It only runs code and reports
// raw outcomes as JSON; expected outputs never enter the interpreter and all comparing happens on
// the host, so a program that tampers with this harness, builtins or the json module can spoil only
// its own output, and the memory restore after the program undoes it for the next one.

/**
 * Python source that sets up the sandbox and leaves `_r1_step()` in `__main__`: it reads a request
 * from /r1/request.json (compile the program, or run one test) and writes the outcome as JSON to
 * /r1/response.json.
 */
export const HARNESS_SOURCE = String.raw`
import sys, io, json, builtins

# No route back to JavaScript: the FFI and the modules that expose it are dropped and re-imports are
# refused. (The JavaScript realm is locked down too, see worker-main.ts: this is the first layer.)
_R1_DENIED = frozenset({'js', 'pyodide_js', 'pyodide', '_pyodide', '_pyodide_core', 'micropip',
                        'ctypes', '_ctypes', 'pyodide_http', 'pyodide_kernel', 'pyodide_js._api'})
for _name in list(sys.modules):
    if _name.split('.')[0] in _R1_DENIED:
        del sys.modules[_name]

class _R1Blocker:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split('.')[0] in _R1_DENIED:
            raise ImportError('import of %r is not allowed in the sandbox' % name, name=name)
        return None

sys.meta_path[:] = [_R1Blocker] + [f for f in sys.meta_path if type(f).__name__ not in ('JsFinder',)]
sys.path_importer_cache.clear()
sys.setrecursionlimit(1000)

# os._exit would end the WebAssembly runtime (a fatal error for the worker); here it ends the program
# like sys.exit, which is what the Codeforces-style programs that call it mean.
import os, posix
def _r1_exit(code):
    raise SystemExit(code)
os._exit = posix._exit = _r1_exit

class _R1Output(io.TextIOBase):
    """A stdout that keeps at most 'limit' characters and remembers that more was written."""
    def __init__(self, limit):
        self._parts = []
        self._size = 0
        self._limit = limit
        self.overflow = False
    def writable(self):
        return True
    def write(self, s):
        if not isinstance(s, str):
            raise TypeError('write() argument must be str, not %s' % type(s).__name__)
        if self._size + len(s) > self._limit:
            self.overflow = True
            raise _R1OutputLimit('output larger than %d characters' % self._limit)
        self._parts.append(s)
        self._size += len(s)
        return len(s)
    def getvalue(self):
        return ''.join(self._parts)

class _R1OutputLimit(BaseException):
    pass

_r1_state = {'code': None}

def _r1_prepare(source, _compile=compile, _state=_r1_state, _dumps=json.dumps):
    try:
        _state['code'] = _compile(source, '<solution>', 'exec')
        return _dumps({'status': 'ok'})
    except BaseException as e:
        return _dumps({'status': 'error', 'stage': 'load', 'type': type(e).__name__, 'message': str(e)[:2000]})

def _r1_run(mode, stdin, fn, args_json, snippet, max_chars,
            _sys=sys, _StringIO=io.StringIO, _dumps=json.dumps, _loads=json.loads, _builtins=builtins, _state=_r1_state, _Output=_R1Output,
            _Limit=_R1OutputLimit, _exec=exec, _compile=compile, _str=str, _type=type, _isinstance=isinstance,
            _callable=callable, _getattr=getattr, _dict=dict, _len=len):
    out = _Output(max_chars)
    _sys.stdin = _StringIO(stdin)
    _sys.stdout = out
    _sys.stderr = _Output(max_chars)
    g = {'__name__': '__main__', '__builtins__': _builtins}
    value = None
    status = {'status': 'ok'}
    try:
        try:
            _exec(_state['code'], g)
        except SystemExit as e:
            if e.code not in (None, 0):
                raise
        if mode == 'call':
            target = g.get(fn)
            if not _callable(target) and _callable(g.get('Solution')):
                target = _getattr(g['Solution'](), fn, None)  # LiveCodeBench's class Solution form
            if not _callable(target):
                status = {'status': 'error', 'stage': 'test', 'type': 'NameError', 'message': 'no function named %s' % fn}
            else:
                value = target(*_loads(args_json))
        elif mode == 'assert':
            _exec(_compile(snippet, '<test>', 'exec'), g)
    except _Limit as e:
        status = {'status': 'error', 'stage': 'test', 'type': 'OutputLimit', 'message': _str(e)}
    except BaseException as e:
        try:
            message = _str(e)[:2000]
        except BaseException:
            message = 'unprintable error'
        name = _type(e).__name__ if _isinstance(_type(e).__name__, _str) else 'Error'
        status = {'status': 'error', 'stage': 'test', 'type': name[:200], 'message': message}
    finally:
        _sys.stdout = _sys.__stdout__
        _sys.stderr = _sys.__stderr__
        _sys.stdin = _sys.__stdin__
    if out.overflow:
        status = {'status': 'error', 'stage': 'test', 'type': 'OutputLimit', 'message': 'output larger than %d characters' % max_chars}
    if status['status'] == 'ok':
        status['stdout'] = out.getvalue()
        if mode == 'call':
            try:
                encoded = _dumps(value, allow_nan=False)
            except BaseException as e:
                encoded = None
                status = {'status': 'error', 'stage': 'test', 'type': 'Unserializable',
                          'message': 'return value is not JSON data: %s' % _type(value).__name__}
            if encoded is not None and _len(encoded) > max_chars:
                status = {'status': 'error', 'stage': 'test', 'type': 'OutputLimit', 'message': 'return value larger than %d characters' % max_chars}
            elif encoded is not None:
                status['value'] = encoded
    try:
        return _dumps(status)
    except BaseException:
        return '{"status": "error", "stage": "test", "type": "Error", "message": "unencodable outcome"}'

def _r1_step(_open=io.open, _loads=json.loads, _prepare=_r1_prepare, _run=_r1_run):
    with _open('/r1/request.json', encoding='utf-8') as f:
        req = _loads(f.read())
    if req['op'] == 'prepare':
        out = _prepare(req['code'])
    else:
        out = _run(req['mode'], req['stdin'], req['fn'], req['argsJson'], req['snippet'], req['maxChars'])
    with _open('/r1/response.json', 'w', encoding='utf-8') as f:
        f.write(out)
`;
