/**
 * PostgreSQL stores no NUL character (U+0000), in text or in jsonb. What clients or PMSs send is
 * checked for it before it gets near a statement: a request is refused, a PMS record quarantined.
 */

/** The first string in `value` (keys included) holding U+0000, as a JSON pointer below `root`. */
export function pointerToNul(value: unknown, root: string): string | undefined {
  // Without recursion: bodies and PMS records may nest deep.
  const stack: Array<[unknown, string]> = [[value, root]];
  while (stack.length > 0) {
    const [node, pointer] = stack.pop()!;
    if (typeof node === 'string') {
      if (node.includes('\u0000')) return pointer;
    } else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) {
        const at = `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
        if (key.includes('\u0000')) return at;
        stack.push([child, at]);
      }
    }
  }
  return undefined;
}

/** `value` with every NUL in its strings and keys shown as U+2400 (␀), so it can be stored as it came. */
export function withNulShown<T>(value: T): T {
  if (typeof value === 'string') return value.replaceAll('\u0000', '\u2400') as T;
  if (Array.isArray(value)) return value.map(withNulShown) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => [key.replaceAll('\u0000', '\u2400'), withNulShown(child)]),
    ) as T;
  }
  return value;
}
