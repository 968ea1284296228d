import { LRUCache } from 'lru-cache';
import { RE2JS } from 're2js';

/**
 * Every regular expression whose text a tenant wrote (field rule patterns, raw_schema patterns,
 * date formats, templates) is compiled here, by RE2 (the pure-JS port `re2js`): matching takes
 * time linear in the input, whatever the pattern, so no pattern can freeze the process that
 * serves every tenant. The dialect is RE2's: no backreferences, no lookaround (docs/integrations.md).
 */

/** Longest pattern text accepted. */
export const MAX_PATTERN_LENGTH = 1000;
/**
 * Largest compiled program accepted, in RE2 instructions. Linear time is O(input × program) in
 * the worst case, so the program is kept small: `x{300}` alone counts 300.
 */
export const MAX_PROGRAM_SIZE = 1000;

/** The pattern cannot be matched by the linear-time engine; the message says why, for a person. */
export class UnsupportedPatternError extends Error {}

export interface LinearRegex {
  readonly source: string;
  /** Whether the pattern matches anywhere in `text` (as RegExp.prototype.test). */
  test(text: string): boolean;
  /** The first match with its groups, shaped as RegExp.prototype.exec's answer. */
  exec(text: string): RegExpExecArray | null;
  /** Every non-overlapping match, as String.prototype.matchAll. */
  matchAll(text: string): IterableIterator<RegExpMatchArray>;
}

/**
 * JavaScript's `\s` written for RE2, whose own `\s` is ASCII only: patterns that this code builds
 * (not tenants' patterns) use it to keep the meaning they had as RegExps.
 */
export const JS_SPACE =
  '\\t\\n\\x0B\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}';

const cache = new LRUCache<string, RE2JS>({ max: 2000 });

/** Compiles a pattern for linear-time matching; throws UnsupportedPatternError saying why not. */
export function compileLinearRegex(source: string, options: { ignoreCase?: boolean } = {}): LinearRegex {
  const flags = options.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0;
  const key = `${flags}:${source}`;
  let compiled = cache.get(key);
  if (!compiled) {
    compiled = compile(source, flags);
    cache.set(key, compiled);
  }
  const re = compiled;
  return {
    source,
    test: (text) => re.test(text),
    exec: (text) => re.exec(text) as RegExpExecArray | null,
    matchAll: (text) => re.matchAll(text),
  };
}

/** Undefined when the pattern is accepted, otherwise why not (the lint's and the runtime's answer). */
export function linearRegexProblem(source: string): string | undefined {
  try {
    compileLinearRegex(source);
    return undefined;
  } catch (error) {
    if (error instanceof UnsupportedPatternError) return error.message;
    throw error;
  }
}

/**
 * Ajv's `code.regExp` engine (its documented hook for a non-backtracking engine), so that a raw
 * schema's `pattern`, `patternProperties` and `propertyNames` patterns are matched by RE2 too.
 * Ajv passes the `u` flag; RE2 always reads patterns as Unicode.
 */
export const linearRegExpEngine = Object.assign(
  (pattern: string, flags: string) => {
    const re = compileLinearRegex(pattern);
    return { test: (text: string) => re.test(text), toString: () => `/${pattern}/${flags}` };
  },
  { code: 'linearRegExpEngine' },
);

function compile(source: string, flags: number): RE2JS {
  if (source.length > MAX_PATTERN_LENGTH) {
    throw new UnsupportedPatternError(
      `is longer than ${MAX_PATTERN_LENGTH} characters (${source.length}); patterns must stay small`,
    );
  }
  // Counted repetitions expand when compiled: refuse an oversized program before building it.
  const estimate = estimatedSize(source);
  if (estimate > MAX_PROGRAM_SIZE) throw tooLarge(estimate);
  let re: RE2JS;
  try {
    re = RE2JS.compile(source, flags);
  } catch (error) {
    throw new UnsupportedPatternError(explain(error));
  }
  if (re.programSize() > MAX_PROGRAM_SIZE) throw tooLarge(re.programSize());
  return re;
}

function tooLarge(size: number): UnsupportedPatternError {
  return new UnsupportedPatternError(
    `is too large for the linear-time engine (about ${size} instructions, at most ${MAX_PROGRAM_SIZE}; ` +
      'a counted repetition such as x{300} counts 300 times)',
  );
}

const UNSUPPORTED = 'which the linear-time engine (RE2 syntax) does not support';

/** RE2's parse error, said in terms of what the author wrote. */
function explain(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const detail = message.replace(/^error parsing regexp: /, '');
  const fragment = /`([^`]*)`/.exec(detail)?.[1] ?? '';
  const lookaround = /^\(\?<?[=!]/.exec(fragment)?.[0];
  if (lookaround) return `uses lookahead or lookbehind (${lookaround}…)), ${UNSUPPORTED}`;
  if (/^\\([1-9]|k)|^\(\?P=/.test(fragment)) return `uses a backreference (\\1, \\k<name>), ${UNSUPPORTED}`;
  if (/^\(\?>/.test(fragment)) return `uses an atomic group ((?>…)), ${UNSUPPORTED}`;
  if (/^[*+?]\+|^\}\+/.test(fragment) || /repetition operator: `[*+?}]\+/.test(detail))
    return `uses a possessive quantifier, ${UNSUPPORTED}`;
  return `is not a regular expression in RE2 syntax: ${detail}`;
}

const REPEAT = /^\{(\d{1,9})(?:,(\d{0,9}))?\}/;

/**
 * An estimate of the compiled size, as RE2's own parser computes it (literals 1, groups and
 * operators a few, `x{n,m}` m times x), read without compiling. Classes and escapes count 1.
 */
export function estimatedSize(source: string): number {
  // Each open group: its size so far and the size of its last item (what a quantifier repeats).
  const frames: Array<{ total: number; last: number }> = [{ total: 0, last: 0 }];
  const item = (size: number) => {
    const frame = frames.at(-1)!;
    frame.total += size;
    frame.last = size;
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const next = source[i + 1];
      if ((next === 'x' || next === 'p' || next === 'P') && source[i + 2] === '{') {
        const close = source.indexOf('}', i);
        i = close === -1 ? source.length : close;
      } else {
        i += next === 'p' || next === 'P' ? 2 : 1;
      }
      item(1);
    } else if (c === '[') {
      let j = i + 1;
      if (source[j] === '^') j++;
      if (source[j] === ']') j++;
      for (; j < source.length && source[j] !== ']'; j++) {
        if (source[j] === '\\') j++;
        else if (source[j] === '[' && source[j + 1] === ':') {
          const close = source.indexOf(':]', j + 2);
          if (close !== -1) j = close + 1;
        }
      }
      i = j;
      item(1);
    } else if (c === '(') {
      frames.push({ total: 0, last: 0 });
    } else if (c === ')') {
      const group = frames.length > 1 ? frames.pop()! : { total: 0, last: 0 };
      item(group.total + 2);
    } else if (c === '|') {
      const frame = frames.at(-1)!;
      frame.total += 1;
      frame.last = 0;
    } else if (c === '*' || c === '+' || c === '?') {
      frames.at(-1)!.total += 2;
    } else if (c === '{' && REPEAT.test(source.slice(i, i + 22))) {
      const [whole, min, max] = REPEAT.exec(source.slice(i, i + 22))!;
      // As RE2 counts it: x{n,m} is m copies of x and m - n choices; x{n,} is n copies and a loop.
      const times = Math.max(1, Number(max || min));
      const frame = frames.at(-1)!;
      const extra = frame.last * (times - 1) + (max === '' ? 1 : Number(max ?? min) - Number(min));
      frame.total += Math.max(0, extra);
      frame.last *= times;
      i += whole.length - 1;
    } else {
      item(1);
    }
  }
  while (frames.length > 1) {
    const group = frames.pop()!;
    item(group.total + 2);
  }
  return frames[0]!.total;
}
