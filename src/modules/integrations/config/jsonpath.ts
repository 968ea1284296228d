import { JSONPath } from 'jsonpath-plus';

/**
 * JSONPath as configs may use it: a strict grammar (child names, wildcards, recursive descent,
 * indexes, slices, unions, quoted names) and never a script. A config is data, never code, so
 * `[?(…)]` filters and `[(…)]` expressions are refused here, and evaluation runs with
 * `eval: false` as a second line of defence.
 */
export type CompiledPath = {
  source: string;
  /** Every match, in document order. */
  all(json: unknown): unknown[];
  /** The first match, or undefined when nothing matches. */
  first(json: unknown): unknown;
};

export class JsonPathSyntaxError extends Error {}

const NAME = /^[\p{L}\p{N}_-]+/u;
const INTEGER = /^-?\d+$/;
const SLICE = /^(-?\d+)?:(-?\d+)?(:(-?\d+)?)?$/;
const QUOTED = /^'([^'\\]*)'$|^"([^"\\]*)"$/;

type Segment = { kind: 'name'; name: string } | { kind: 'index'; index: number } | { kind: 'other' };

function parseBracket(inner: string, at: number): Segment {
  const body = inner.trim();
  if (body.startsWith('?') || body.startsWith('(')) {
    throw new JsonPathSyntaxError(`script expressions are not allowed (at character ${at})`);
  }
  if (body === '*') return { kind: 'other' };
  const quoted = QUOTED.exec(body);
  if (quoted) return { kind: 'name', name: quoted[1] ?? quoted[2] ?? '' };
  if (INTEGER.test(body)) {
    const index = Number(body);
    return index >= 0 ? { kind: 'index', index } : { kind: 'other' };
  }
  if (SLICE.test(body)) return { kind: 'other' };
  const parts = body.split(',').map((p) => p.trim());
  if (parts.length > 1 && parts.every((p) => INTEGER.test(p) || QUOTED.test(p))) return { kind: 'other' };
  throw new JsonPathSyntaxError(`unsupported bracket expression [${inner}] (at character ${at})`);
}

/** Parses a path; throws JsonPathSyntaxError naming the problem. */
function parse(path: string): Segment[] {
  if (path.includes('@') || path.includes('`')) {
    if (/\[\s*[?(]/.test(path)) throw new JsonPathSyntaxError('script expressions are not allowed');
    throw new JsonPathSyntaxError('"@" and "`" are not allowed outside a quoted name');
  }
  if (!path.startsWith('$')) throw new JsonPathSyntaxError('must start with $');
  const segments: Segment[] = [];
  let i = 1;
  while (i < path.length) {
    const rest = path.slice(i);
    if (rest.startsWith('..')) {
      i += 2;
      segments.push({ kind: 'other' });
      if (path[i] === '[') continue;
      if (path[i] === '*') {
        i += 1;
        continue;
      }
      const name = NAME.exec(path.slice(i));
      if (!name) throw new JsonPathSyntaxError(`expected a name after ".." (at character ${i})`);
      i += name[0].length;
      continue;
    }
    if (rest.startsWith('.')) {
      i += 1;
      if (path[i] === '*') {
        segments.push({ kind: 'other' });
        i += 1;
        continue;
      }
      const name = NAME.exec(path.slice(i));
      if (!name) throw new JsonPathSyntaxError(`expected a name after "." (at character ${i})`);
      segments.push({ kind: 'name', name: name[0] });
      i += name[0].length;
      continue;
    }
    if (rest.startsWith('[')) {
      const close = findClose(path, i);
      segments.push(parseBracket(path.slice(i + 1, close), i));
      i = close + 1;
      continue;
    }
    throw new JsonPathSyntaxError(`unexpected "${path[i]}" (at character ${i})`);
  }
  return segments;
}

function findClose(path: string, open: number): number {
  let quote: string | null = null;
  for (let j = open + 1; j < path.length; j++) {
    const c = path[j];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '[') {
      throw new JsonPathSyntaxError(`nested "[" (at character ${j})`);
    } else if (c === ']') {
      return j;
    }
  }
  throw new JsonPathSyntaxError(`unclosed "[" (at character ${open})`);
}

const cache = new Map<string, CompiledPath>();

/**
 * Compiles a path once. Plain child paths (`$.a.b[0]`) become a direct property walk, which is
 * what most mappings are and keeps ingestion fast; everything else goes through jsonpath-plus.
 */
export function compileJsonPath(path: string): CompiledPath {
  const cached = cache.get(path);
  if (cached) return cached;
  const segments = parse(path);
  let compiled: CompiledPath;
  if (segments.every((s) => s.kind !== 'other')) {
    const keys = segments.map((s) => (s.kind === 'name' ? s.name : (s as { index: number }).index));
    const first = (json: unknown): unknown => {
      let node: unknown = json;
      for (const key of keys) {
        // Strings are walked too (their characters and length), as jsonpath-plus does.
        if (node === null || (typeof node !== 'object' && typeof node !== 'string')) return undefined;
        if (!Object.hasOwn(node as object, key)) return undefined;
        node = (node as Record<string | number, unknown>)[key];
      }
      return node;
    };
    compiled = {
      source: path,
      first,
      all: (json) => {
        const value = first(json);
        return value === undefined ? [] : [value];
      },
    };
  } else {
    const all = (json: unknown): unknown[] =>
      JSONPath({ path, json: json as object, eval: false, wrap: true }) as unknown[];
    compiled = { source: path, all, first: (json) => all(json)[0] };
  }
  if (cache.size > 5000) cache.clear();
  cache.set(path, compiled);
  return compiled;
}

/** Undefined when the path is acceptable, otherwise why not. */
export function jsonPathProblem(path: string): string | undefined {
  try {
    parse(path);
    return undefined;
  } catch (error) {
    return error instanceof JsonPathSyntaxError ? error.message : String(error);
  }
}
