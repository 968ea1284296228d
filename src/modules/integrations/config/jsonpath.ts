import { JSONPath } from 'jsonpath-plus';

/**
 * JSONPath as configs may use it: a strict grammar (child names, wildcards, recursive descent,
 * indexes, slices, unions, quoted names such as `$['@id']`) and filters `[?(…)]` made of
 * comparisons, `&&`, `||` and `!` over the current node and literals. A config is data, never
 * code: a filter is parsed here into a small tree and interpreted, never handed to a JavaScript
 * engine (jsonpath-plus's own "safe" script mode has had sandbox escapes), and `[(…)]`
 * expressions, type operators and backticks are refused.
 */
export type CompiledPath = {
  source: string;
  /** Every match, in document order. */
  all(json: unknown): unknown[];
  /** The first match, or undefined when nothing matches. */
  first(json: unknown): unknown;
};

export class JsonPathSyntaxError extends Error {}

type Literal = string | number | boolean | null;
/** A singular query inside a filter: `@` (the node tested) or `$` (the whole document), then names and indexes. */
type Query = { kind: 'query'; root: '@' | '$'; keys: Array<string | number> };
type Operand = Query | { kind: 'literal'; value: Literal };
export type FilterExpr =
  | { kind: 'or' | 'and'; left: FilterExpr; right: FilterExpr }
  | { kind: 'not'; expr: FilterExpr }
  | { kind: 'exists'; query: Query }
  | { kind: 'compare'; op: CompareOp; left: Operand; right: Operand };
type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

type Segment =
  | { kind: 'name'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' }
  | { kind: 'descendant' }
  | { kind: 'slice'; start?: number; end?: number; step?: number }
  | { kind: 'union'; members: Array<{ name: string } | { index: number }> }
  | { kind: 'filter'; expr: FilterExpr };

const NAME = /^[\p{L}\p{N}_-]+/u;
const INTEGER = /^-?\d+$/;
const SLICE = /^(-?\d+)?:(-?\d+)?(:(-?\d+)?)?$/;

/** A cursor over the path text; every error names the character where it stands. */
class Reader {
  readonly text: string;
  at = 0;
  constructor(text: string) {
    this.text = text;
  }
  get done() {
    return this.at >= this.text.length;
  }
  peek(n = 1) {
    return this.text.slice(this.at, this.at + n);
  }
  skipSpace() {
    while (this.text[this.at] === ' ') this.at += 1;
  }
  fail(message: string): never {
    throw new JsonPathSyntaxError(`${message} (at character ${this.at})`);
  }
  expect(token: string) {
    if (this.peek(token.length) !== token) this.fail(`expected "${token}"`);
    this.at += token.length;
  }
  /** A quoted name; `\'`, `\"` and `\\` stand for the character itself. */
  quoted(): string {
    const quote = this.text[this.at];
    let out = '';
    for (this.at += 1; this.at < this.text.length; this.at += 1) {
      const c = this.text[this.at]!;
      if (c === quote) {
        this.at += 1;
        return out;
      }
      if (c === '\\') {
        const next = this.text[this.at + 1];
        if (next !== "'" && next !== '"' && next !== '\\') this.fail('unsupported escape in a quoted name');
        out += next;
        this.at += 1;
        continue;
      }
      out += c;
    }
    return this.fail('unclosed quoted name');
  }
}

/** Parses a path; throws JsonPathSyntaxError naming the problem. */
function parse(path: string): Segment[] {
  const r = new Reader(path);
  if (r.peek() !== '$') r.fail('must start with $');
  r.at = 1;
  const segments: Segment[] = [];
  while (!r.done) {
    if (r.peek(2) === '..') {
      r.at += 2;
      segments.push({ kind: 'descendant' });
      if (r.peek() === '[') continue;
      if (r.peek() === '*') {
        r.at += 1;
        segments.push({ kind: 'wildcard' });
        continue;
      }
      const name = NAME.exec(path.slice(r.at));
      if (!name) return r.fail('expected a name after ".."');
      segments.push({ kind: 'name', name: name[0] });
      r.at += name[0].length;
      continue;
    }
    if (r.peek() === '.') {
      r.at += 1;
      if (r.peek() === '*') {
        r.at += 1;
        segments.push({ kind: 'wildcard' });
        continue;
      }
      const name = NAME.exec(path.slice(r.at));
      if (!name) return r.fail('expected a name after "."');
      segments.push({ kind: 'name', name: name[0] });
      r.at += name[0].length;
      continue;
    }
    if (r.peek() === '[') {
      segments.push(bracket(r));
      continue;
    }
    r.fail(`unexpected "${r.peek()}"`);
  }
  return segments;
}

function bracket(r: Reader): Segment {
  r.expect('[');
  r.skipSpace();
  const start = r.at;
  let segment: Segment;
  if (r.peek() === '?') {
    r.at += 1;
    r.skipSpace();
    segment = { kind: 'filter', expr: filterOr(r) };
  } else if (r.peek() === '(') {
    r.fail('script expressions [(…)] are not allowed');
  } else {
    // Everything up to the closing bracket, quotes respected.
    const members: string[] = [];
    const names: Array<{ name: string } | { index: number }> = [];
    for (;;) {
      r.skipSpace();
      const c = r.peek();
      if (c === "'" || c === '"') {
        const name = r.quoted();
        members.push('quoted');
        names.push({ name });
      } else {
        const token = /^[^,\]\s]*/.exec(r.text.slice(r.at))![0];
        r.at += token.length;
        members.push(token);
        if (INTEGER.test(token)) names.push({ index: Number(token) });
      }
      r.skipSpace();
      if (r.peek() !== ',') break;
      r.at += 1;
    }
    const only = members.length === 1 ? members[0]! : undefined;
    if (only === '*') segment = { kind: 'wildcard' };
    else if (only === 'quoted') segment = { kind: 'name', name: (names[0] as { name: string }).name };
    else if (only !== undefined && INTEGER.test(only)) segment = { kind: 'index', index: Number(only) };
    else if (only !== undefined && SLICE.test(only)) {
      const [a, b, c] = only.split(':');
      const num = (s: string | undefined) => (s === undefined || s === '' ? undefined : Number(s));
      segment = { kind: 'slice', start: num(a), end: num(b), step: num(c) };
    } else if (members.length > 1 && names.length === members.length) {
      segment = { kind: 'union', members: names };
    } else {
      r.at = start;
      return r.fail(`unsupported bracket expression [${r.text.slice(start).split(']')[0]}]`);
    }
  }
  r.skipSpace();
  if (r.peek() !== ']') r.fail(r.done ? 'unclosed "["' : `expected "]" but found "${r.peek()}"`);
  r.at += 1;
  return segment;
}

function filterOr(r: Reader): FilterExpr {
  let left = filterAnd(r);
  for (r.skipSpace(); r.peek(2) === '||'; r.skipSpace()) {
    r.at += 2;
    left = { kind: 'or', left, right: filterAnd(r) };
  }
  return left;
}

function filterAnd(r: Reader): FilterExpr {
  let left = filterNot(r);
  for (r.skipSpace(); r.peek(2) === '&&'; r.skipSpace()) {
    r.at += 2;
    left = { kind: 'and', left, right: filterNot(r) };
  }
  return left;
}

function filterNot(r: Reader): FilterExpr {
  r.skipSpace();
  if (r.peek() === '!' && r.peek(2) !== '!=') {
    r.at += 1;
    return { kind: 'not', expr: filterNot(r) };
  }
  if (r.peek() === '(') {
    r.at += 1;
    const inner = filterOr(r);
    r.skipSpace();
    r.expect(')');
    return inner;
  }
  const left = operand(r);
  r.skipSpace();
  const op = /^(==|!=|<=|>=|<|>)/.exec(r.text.slice(r.at))?.[1] as CompareOp | undefined;
  if (!op && /^[-+*/%^=~?:]/.test(r.peek()))
    r.fail(
      'arithmetic, regular expressions and scripts are not allowed in a filter: compare values with ==, !=, <, <=, >, >= and join with &&, ||, !',
    );
  if (!op) {
    if (left.kind !== 'query')
      r.fail('a filter tests a value that exists (@.name) or compares two values (@.name == 1)');
    return { kind: 'exists', query: left };
  }
  r.at += op.length;
  r.skipSpace();
  return { kind: 'compare', op, left, right: operand(r) };
}

function operand(r: Reader): Operand {
  const c = r.peek();
  if (c === '@' || c === '$') {
    r.at += 1;
    const keys: Array<string | number> = [];
    for (;;) {
      if (r.peek() === '.' && r.peek(2) !== '..') {
        r.at += 1;
        const name = NAME.exec(r.text.slice(r.at));
        if (!name) return r.fail('expected a name after "."');
        keys.push(name[0]);
        r.at += name[0].length;
      } else if (r.peek() === '[') {
        r.at += 1;
        r.skipSpace();
        const q = r.peek();
        if (q === "'" || q === '"') keys.push(r.quoted());
        else {
          const index = /^\d+/.exec(r.text.slice(r.at))?.[0];
          if (index === undefined)
            r.fail("inside a filter, a value is read by names and indexes only (@.a, @['a'], @[0])");
          keys.push(Number(index));
          r.at += index.length;
        }
        r.skipSpace();
        r.expect(']');
      } else break;
    }
    if (r.peek() === '(' || r.peek(2) === '..')
      r.fail(
        'functions, scripts and .. are not allowed in a filter: read a value by names and indexes (@.a, @[0])',
      );
    return { kind: 'query', root: c, keys };
  }
  if (c === "'" || c === '"') return { kind: 'literal', value: r.quoted() };
  const token = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?|true|false|null)/.exec(r.text.slice(r.at))?.[0];
  if (token === undefined) r.fail('expected a value: @…, $…, a quoted text, a number, true, false or null');
  r.at += token.length;
  return { kind: 'literal', value: JSON.parse(token) as Literal };
}

/** Follows one name or index, as jsonpath-plus does (strings included: their characters and length). */
function child(node: unknown, key: string | number): unknown {
  if (!node || (typeof node !== 'object' && typeof node !== 'string')) return undefined;
  return Object.hasOwn(node as object, key) ? (node as Record<string | number, unknown>)[key] : undefined;
}
const has = (node: unknown, key: string | number) =>
  Boolean(node) &&
  (typeof node === 'object' || typeof node === 'string') &&
  Object.hasOwn(node as object, key);

/** The children `*` walks: an array's items, an object's values; nothing for a scalar. */
function children(node: unknown): unknown[] {
  if (Array.isArray(node)) return node;
  if (node && typeof node === 'object') return Object.values(node);
  return [];
}

const NOTHING = Symbol('nothing');

function readQuery(query: Query, current: unknown, root: unknown): unknown {
  let node = query.root === '@' ? current : root;
  for (const key of query.keys) {
    if (!has(node, key)) return NOTHING;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as never)[k], (b as never)[k]))
  );
}

/** RFC 9535 §2.3.5.2.2: equality of values (a missing value equals only a missing one); order of two numbers or two texts. */
function compare(op: CompareOp, a: unknown, b: unknown): boolean {
  const less = () =>
    (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')
      ? (a as number) < (b as number)
      : false;
  const greater = () =>
    (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')
      ? (a as number) > (b as number)
      : false;
  switch (op) {
    case '==':
      return deepEqual(a, b);
    case '!=':
      return !deepEqual(a, b);
    case '<':
      return less();
    case '<=':
      return less() || deepEqual(a, b);
    case '>':
      return greater();
    case '>=':
      return greater() || deepEqual(a, b);
  }
}

export function evaluateFilter(expr: FilterExpr, current: unknown, root: unknown): boolean {
  switch (expr.kind) {
    case 'or':
      return evaluateFilter(expr.left, current, root) || evaluateFilter(expr.right, current, root);
    case 'and':
      return evaluateFilter(expr.left, current, root) && evaluateFilter(expr.right, current, root);
    case 'not':
      return !evaluateFilter(expr.expr, current, root);
    case 'exists':
      return readQuery(expr.query, current, root) !== NOTHING;
    case 'compare': {
      const side = (o: Operand) => (o.kind === 'literal' ? o.value : readQuery(o, current, root));
      return compare(expr.op, side(expr.left), side(expr.right));
    }
  }
}

/** Every match of `segments` from `node`, in the order jsonpath-plus gives for the same path. */
function evaluate(segments: Segment[], from: number, node: unknown, root: unknown, out: unknown[]): void {
  if (from === segments.length) {
    out.push(node);
    return;
  }
  const segment = segments[from]!;
  const next = from + 1;
  switch (segment.kind) {
    case 'name':
      if (has(node, segment.name)) evaluate(segments, next, child(node, segment.name), root, out);
      return;
    case 'index':
      if (segment.index >= 0 && has(node, segment.index))
        evaluate(segments, next, child(node, segment.index), root, out);
      return;
    case 'wildcard':
      for (const item of children(node)) evaluate(segments, next, item, root, out);
      return;
    case 'descendant':
      // The rest at this node, then the same descent into each child container.
      evaluate(segments, next, node, root, out);
      for (const item of children(node)) {
        if (typeof item === 'object') evaluate(segments, from, item, root, out);
      }
      return;
    case 'union':
      for (const member of segment.members) {
        const key = 'name' in member ? member.name : member.index;
        if (typeof key === 'number' && key < 0) continue;
        if (has(node, key)) evaluate(segments, next, child(node, key), root, out);
      }
      return;
    case 'slice': {
      if (!Array.isArray(node)) return;
      const len = node.length;
      const step = segment.step ?? 1;
      if (step === 0) return;
      const norm = (i: number) => (i < 0 ? i + len : i);
      const start = norm(segment.start ?? (step > 0 ? 0 : len - 1));
      const end = norm(segment.end ?? (step > 0 ? len : -len - 1));
      const clamp = (i: number, low: number, high: number) => Math.min(Math.max(i, low), high);
      const [a, b] =
        step > 0
          ? [clamp(start, 0, len), clamp(end, 0, len)]
          : [clamp(start, -1, len - 1), clamp(end, -1, len - 1)];
      for (let i = a; step > 0 ? i < b : i > b; i += step) evaluate(segments, next, node[i], root, out);
      return;
    }
    case 'filter':
      for (const item of children(node)) {
        if (evaluateFilter(segment.expr, item, root)) evaluate(segments, next, item, root, out);
      }
      return;
  }
}

const cache = new Map<string, CompiledPath>();

/**
 * Compiles a path once. Plain child paths (`$.a.b[0]`, `$['@id']`) become a direct property walk,
 * which is what most mappings are and keeps ingestion fast. Paths with a filter, or a quoted name
 * that jsonpath-plus would read as an operator (`@…`, a backtick), are evaluated here; the rest go
 * through jsonpath-plus (scripts off), as version 1 configs always did.
 */
export function compileJsonPath(path: string): CompiledPath {
  const cached = cache.get(path);
  if (cached) return cached;
  const segments = parse(path);
  let compiled: CompiledPath;
  if (segments.every((s) => s.kind === 'name' || (s.kind === 'index' && s.index >= 0))) {
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
  } else if (segments.some(needsOwnEvaluator)) {
    const all = (json: unknown): unknown[] => {
      const out: unknown[] = [];
      evaluate(segments, 0, json, json, out);
      return out;
    };
    compiled = { source: path, all, first: (json) => all(json)[0] };
  } else {
    const all = (json: unknown): unknown[] =>
      JSONPath({ path, json: json as object, eval: false, wrap: true }) as unknown[];
    compiled = { source: path, all, first: (json) => all(json)[0] };
  }
  if (cache.size > 5000) cache.clear();
  cache.set(path, compiled);
  return compiled;
}

// jsonpath-plus reads some names as operators (`@…`, `*`, `a:b` as a slice); those are evaluated here.
const special = (name: string) => !/^[\p{L}\p{N}_ .-]+$/u.test(name);
function needsOwnEvaluator(segment: Segment): boolean {
  if (segment.kind === 'filter') return true;
  if (segment.kind === 'name') return special(segment.name);
  if (segment.kind === 'union') return segment.members.some((m) => 'name' in m && special(m.name));
  return false;
}

/** Evaluates a path outside the cache (tests compare the evaluator with jsonpath-plus through it). */
export function evaluateJsonPath(path: string, json: unknown): unknown[] {
  const out: unknown[] = [];
  evaluate(parse(path), 0, json, json, out);
  return out;
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
