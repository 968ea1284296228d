/**
 * PostgreSQL array literals for the bulk statements of ingestion, cast in SQL (`${…}::uuid[]`).
 * pg serialises a JavaScript array by running two regular-expression replaces over every element;
 * a batch of a thousand bookings has tens of thousands of elements, nearly all of them uuids,
 * dates and numbers that need no quoting. Here an element is quoted only when it must be.
 */
const NEEDS_QUOTES = /[\s,{}"\\]|^$|^null$/i;

function element(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return 'NULL';
  const text = String(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/["\\]/g, '\\$&')}"` : text;
}

/** The literal of a one-dimensional array; null and undefined become SQL NULL. */
export function pgArray(values: ReadonlyArray<string | number | boolean | null | undefined>): string {
  let literal = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) literal += ',';
    literal += element(values[i]);
  }
  return `${literal}}`;
}
