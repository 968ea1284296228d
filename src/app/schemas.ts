import { type TSchema, Type } from 'typebox';
import { ValidationError } from './errors.ts';

/** Building blocks shared by every module's route schemas (they also feed the OpenAPI document). */
export const Uuid = Type.String({ format: 'uuid', maxLength: 36, description: 'UUID' });
export const DateString = Type.String({
  format: 'date',
  maxLength: 10,
  description: 'Hotel-local date, YYYY-MM-DD',
});
export const Timestamp = Type.String({ format: 'date-time' });
export const Money = Type.String({
  pattern: '^-?\\d{1,10}(\\.\\d{1,2})?$',
  maxLength: 14,
  description: 'Decimal amount as a string, e.g. "129.50"',
});
export const Currency = Type.String({
  pattern: '^[A-Z]{3}$',
  minLength: 3,
  maxLength: 3,
  description: 'ISO 4217',
});
export const ShortText = (options: { minLength?: number; maxLength?: number; description?: string } = {}) =>
  Type.String({ minLength: options.minLength ?? 1, maxLength: options.maxLength ?? 200, ...options });

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'Stable machine-readable error code' }),
    instance: Type.String(),
    request_id: Type.String(),
    errors: Type.Optional(
      Type.Array(Type.Object({ pointer: Type.String(), message: Type.String() }), {
        description: 'Field problems, by JSON pointer',
      }),
    ),
  },
  { additionalProperties: true, $id: 'Problem', description: 'RFC 9457 problem details' },
);

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 500, description: 'Opaque cursor from next_cursor' })),
};

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({
    results: Type.Array(item),
    next_cursor: Type.Union([Type.String(), Type.Null()]),
  });

/** Opaque keyset cursor: the sort key and id of the last row of the previous page. */
export function encodeCursor(sortKey: string | number, id: string): string {
  return Buffer.from(JSON.stringify([sortKey, id])).toString('base64url');
}

export function decodeCursor(
  cursor: string | undefined,
): { sortKey: string | number; id: string } | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      (typeof parsed[0] === 'string' || typeof parsed[0] === 'number') &&
      typeof parsed[1] === 'string'
    ) {
      return { sortKey: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError('The cursor is not valid; use next_cursor from a previous page.', [
    { pointer: '/querystring/cursor', message: 'is not a valid cursor' },
  ]);
}

/** Given limit+1 rows, returns the page and the cursor to the next one. */
export function pageOf<R extends { id: string }>(
  rows: R[],
  limit: number,
  sortKey: (row: R) => string | number,
): { results: R[]; next_cursor: string | null } {
  const hasMore = rows.length > limit;
  const results = hasMore ? rows.slice(0, limit) : rows;
  const last = results[results.length - 1];
  return { results, next_cursor: hasMore && last ? encodeCursor(sortKey(last), last.id) : null };
}
