// Splits a normalised answer into its top-level structure: a set `\{a, b\}` (or a bare list `a, b`),
// a tuple `(a, b)`, an interval with at least one square bracket `[a, b)`, or a scalar.

/** The shape of an answer; items are still strings. */
export type AnswerStructure =
  | { kind: 'scalar'; value: string }
  | { kind: 'set'; items: string[] }
  | { kind: 'tuple'; items: string[] }
  | { kind: 'interval'; left: '(' | '['; right: ')' | ']'; items: [string, string] };

/** Splits `s` on commas that are not inside (), [], {} or `\{ \}`. */
export function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      if (s[i + 1] === '{') depth++;
      else if (s[i + 1] === '}') depth--;
      i++;
    } else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(s.slice(start).trim());
  return parts;
}

// True when the opening bracket at 0 closes at the very end (so `(a)(b)` is not one group).
function wrapsWhole(s: string, openLen: number, closeLen: number): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && (s[i + 1] === '{' || s[i + 1] === '}')) {
      depth += s[i + 1] === '{' ? 1 : -1;
      i++;
    } else if (c === '\\') i++;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    if (depth === 0 && i < s.length - closeLen) return false;
  }
  return depth === 0 && openLen > 0;
}

/** Reads the top-level structure of a normalised answer. */
export function parseStructure(s: string): AnswerStructure {
  if (s.startsWith('\\{') && s.endsWith('\\}') && wrapsWhole(s, 2, 2)) {
    const inner = s.slice(2, -2).trim();
    return { kind: 'set', items: inner === '' ? [] : splitTopLevel(inner) };
  }
  const first = s[0];
  const last = s[s.length - 1];
  if ((first === '(' || first === '[') && (last === ')' || last === ']') && wrapsWhole(s, 1, 1)) {
    const items = splitTopLevel(s.slice(1, -1));
    if (items.length >= 2) {
      if (items.length === 2 && (first === '[' || last === ']')) {
        return { kind: 'interval', left: first as '(' | '[', right: last as ')' | ']', items: [items[0], items[1]] };
      }
      return { kind: 'tuple', items };
    }
  }
  const items = splitTopLevel(s);
  return items.length >= 2 ? { kind: 'set', items } : { kind: 'scalar', value: s };
}
