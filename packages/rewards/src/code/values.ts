// Values crossing the sandbox boundary: the in-sandbox encoder (source text, run in QuickJS) and the
// host decoder and deep equality. JSON plus tags for undefined, NaN, ±Infinity and BigInt.

/**
 * Source of the sandbox prelude. Evaluated before the solution, it captures the intrinsics it needs
 * (so a solution that patches JSON or Object cannot forge results), installs a no-op `console`, a
 * seeded `Math.random` and a CommonJS-style `module.exports`, removes `SharedArrayBuffer`, `Atomics`,
 * `WeakRef` and `FinalizationRegistry`, and returns `{ encode, describe, installAssert }` whose
 * handles the host keeps (`describe(error, max)`: the error's name and message as JSON, clipped).
 */
export function preludeSource(maxOutputChars: number): string {
  return `(function () {
  'use strict';
  var stringify = JSON.stringify, isArray = Array.isArray, keys = Object.keys, defineProperty = Object.defineProperty;
  var getPrototypeOf = Object.getPrototypeOf, ObjectProto = Object.prototype, ErrorCtor = Error, StringCtor = String;
  var sliceString = Function.prototype.call.bind(StringCtor.prototype.slice);
  var noop = function () {};
  // No shared memory, no GC-observable objects: nothing to build a clock or a nondeterminism source from.
  delete globalThis.SharedArrayBuffer;
  delete globalThis.Atomics;
  delete globalThis.WeakRef;
  delete globalThis.FinalizationRegistry;
  globalThis.console = { log: noop, info: noop, warn: noop, error: noop, debug: noop, trace: noop, table: noop, dir: noop };
  var seed = 0x9e3779b9 >>> 0;
  Math.random = function () {
    seed = (seed + 0x6d2b79f5) >>> 0;
    var t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  globalThis.module = { exports: {} };
  globalThis.exports = globalThis.module.exports;
  // budget: characters the output may still take, charged with a lower bound of each node's JSON
  // (brackets, separators, quotes) before it is built, so a result whose expansion is huge (a DAG
  // sharing sub-objects, a sparse 10⁹-length array, a giant string) fails fast instead.
  var budget = 0;
  var SetCtor = Set, setHas = SetCtor.prototype.has, setAdd = SetCtor.prototype.add, setDelete = SetCtor.prototype['delete'];
  var callFn = Function.prototype.call.bind(Function.prototype.call);
  function spend(n) {
    budget -= n;
    if (budget < 0) throw new ErrorCtor('output too large: more than ${maxOutputChars} characters');
  }
  var MapCtor = Map, mapGet = MapCtor.prototype.get, mapSet = MapCtor.prototype.set;
  // A lower bound of v's JSON length, each shared object measured once (memo), stopping as soon as it
  // passes the budget: linear in distinct objects, so a 2⁶⁰-leaf DAG is rejected in microseconds.
  function measure(v, memo) {
    if (typeof v === 'string') return v.length + 2;
    if (typeof v === 'number') return StringCtor(v).length;
    if (v === null || typeof v !== 'object') return 1;
    var known = callFn(mapGet, memo, v);
    if (known !== undefined) return known;
    callFn(mapSet, memo, v, 1); // in progress: a cycle counts once here and fails in encode
    var total = 1; // an array's brackets and commas take n + 1 characters; an object's 1 + Σ(key + 4)
    if (isArray(v)) {
      var n = v.length;
      total += n;
      for (var i = 0; i < n && total <= budget; i++) total += measure(v[i], memo);
    } else {
      var proto = getPrototypeOf(v);
      if (proto !== ObjectProto && proto !== null) return 1;
      var ks = keys(v);
      for (var j = 0; j < ks.length && total <= budget; j++) total += ks[j].length + 4 + measure(v[ks[j]], memo);
    }
    callFn(mapSet, memo, v, total);
    return total;
  }
  function encode(v, seen) {
    spend(1);
    if (v === undefined) return { $u: 1 };
    if (typeof v === 'number') return v !== v || v === Infinity || v === -Infinity ? { $n: StringCtor(v) } : v;
    if (typeof v === 'bigint') { var b = StringCtor(v); spend(b.length); return { $b: b }; }
    if (typeof v === 'string') { spend(v.length + 1); return v; }
    if (typeof v === 'function' || typeof v === 'symbol') return { $x: typeof v };
    if (v === null || typeof v !== 'object') return v;
    if (callFn(setHas, seen, v)) throw new ErrorCtor('result is cyclic');
    var out;
    if (isArray(v)) {
      var n = v.length;
      spend(n); // a bracket and n − 1 commas
      callFn(setAdd, seen, v);
      out = [];
      for (var i = 0; i < n; i++) out.push(encode(v[i], seen));
    } else {
      var proto = getPrototypeOf(v);
      if (proto !== ObjectProto && proto !== null) return { $x: 'object' };
      var ks = keys(v);
      spend(ks.length);
      callFn(setAdd, seen, v);
      out = {};
      for (var j = 0; j < ks.length; j++) { spend(ks[j].length + 3); out[ks[j]] = encode(v[ks[j]], seen); }
    }
    callFn(setDelete, seen, v);
    return out;
  }
  return {
    encode: function (v) {
      budget = ${maxOutputChars};
      spend(measure(v, new MapCtor()));
      budget = ${maxOutputChars};
      var s = stringify(encode(v, new SetCtor()));
      if (s.length > ${maxOutputChars}) throw new ErrorCtor('output too large: ' + s.length + ' characters');
      return s;
    },
    describe: function (e, max) {
      var isObj = e !== null && (typeof e === 'object' || typeof e === 'function');
      var name = isObj && 'name' in e ? StringCtor(e.name) : 'Error';
      var message = isObj && 'message' in e ? StringCtor(e.message) : StringCtor(e);
      return stringify({ name: sliceString(name, 0, max), message: sliceString(message, 0, max) });
    },
    installAssert: function () {
      defineProperty(globalThis, 'assert', {
        value: function assert(condition, message) {
          if (!condition) throw new ErrorCtor(message === undefined ? 'assertion failed' : StringCtor(message));
        },
        writable: false, configurable: false, enumerable: false,
      });
    },
  };
})()`;
}

/** Decodes the encoder's JSON back into host values. */
export function decodeValue(json: string): unknown {
  return revive(JSON.parse(json));
}

function revive(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(revive);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  if ('$u' in o) return undefined;
  if ('$n' in o) return Number(o.$n);
  if ('$b' in o) return BigInt(o.$b as string);
  if ('$x' in o) return { unsupported: o.$x }; // a function or class instance: never equal to JSON data
  const out: Record<string, unknown> = {};
  // defineProperty, not assignment: a `__proto__` key from the sandbox must stay a plain key
  for (const [k, x] of Object.entries(o)) Object.defineProperty(out, k, { value: revive(x), enumerable: true, writable: true, configurable: true });
  return out;
}

/**
 * Deep equality of plain data: arrays in order, objects by key set, numbers within a relative
 * tolerance (NaN equals NaN), everything else with `===`.
 */
export function deepEqual(a: unknown, b: unknown, tolerance: number): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
    return a === b || Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i], tolerance));
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return (
      ka.length === kb.length &&
      ka.every((k, i) => k === kb[i] && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], tolerance))
    );
  }
  return a === b;
}

/** A short printable form of a value for failure reasons. */
export function preview(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x === undefined ? '<undefined>' : x)) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
