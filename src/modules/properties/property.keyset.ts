import { ValidationError } from '../../app/errors.ts';
import { decodeCursor } from '../../app/schemas.ts';
import type { KeysetAfter } from './property.repository.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Lists here are ordered by a text key (code, room number) and id; a cursor must carry both. */
export function keysetAfter(cursor: string | undefined): KeysetAfter | undefined {
  const decoded = decodeCursor(cursor);
  if (decoded === undefined) return undefined;
  if (typeof decoded.sortKey !== 'string' || !UUID.test(decoded.id)) {
    throw new ValidationError('The cursor is not valid; use next_cursor from a previous page.', [
      { pointer: '/querystring/cursor', message: 'is not a valid cursor' },
    ]);
  }
  return { sortKey: decoded.sortKey, id: decoded.id };
}
