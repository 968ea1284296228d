import { v7 } from 'uuid';

/**
 * A new time-ordered id (UUIDv7): rows inserted together land together in their indexes, and ids
 * made one after another in this process sort in that order (a reservation's rooms are listed by
 * id).
 */
export function newId(): string {
  return v7();
}
