// Values crossing the sandbox boundary: the in-sandbox encoder (source text, run in QuickJS) and the
// host decoder and deep equality. JSON plus tags for undefined, NaN, ±Infinity and BigInt.

/**
 * Source of the sandbox prelude. Evaluated before the solution, it captures the intrinsics it needs
 * (so a solution that patches JSON or Object cannot forge results), installs a no-op `console`, a
 * seeded `Math.random` and a CommonJS-style `module.exports`, and returns
 * `{ encode, installAssert }` whose handles the host keeps.
 */
export function preludeSource(maxOutputChars: number): string {
  return `(function () {
  'use strict';
  var stringify = JSON.stringify, isArray = Array.isArray, keys = Object.keys, defineProperty = Object.defineProperty;
  var getPrototypeOf = Object.getPrototypeOf, ObjectProto = Object.prototype, ErrorCtor = Error, StringCtor = String;
  var noop = function () {};
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
  function encode(v, seen) {
    if (v === undefined) return { $u: 1 };
    if (typeof v === 'number') return v !== v || v === Infinity || v === -Infinity ? { $n: StringCtor(v) } : v;
    if (typeof v === 'bigint') return { $b: StringCtor(v) };
    if (typeof v === 'function' || typeof v === 'symbol') return { $x: typeof v };
    if (v === null || typeof v !== 'object') return v;
    if (seen.indexOf(v) >= 0) throw new ErrorCtor('result is cyclic');
    seen.push(v);
    var out;
    if (isArray(v)) {
      out = [];
      for (var i = 0; i < v.length; i++) out.push(encode(v[i], seen));
    } else {
      var proto = getPrototypeOf(v);
      if (proto !== ObjectProto && proto !== null) { seen.pop(); return { $x: 'object' }; }
      out = {};
      var ks = keys(v);
      for (var j = 0; j < ks.length; j++) out[ks[j]] = encode(v[ks[j]], seen);
    }
    seen.pop();
    return out;
  }
  return {
    encode: function (v) {
      var s = stringify(encode(v, []));
      if (s.length > ${maxOutputChars}) throw new ErrorCtor('output too large: ' + s.length + ' characters');
      return s;
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
