import { NotFoundError } from '../../app/errors.ts';
import type { Db, Tx } from '../../db/database.ts';
import { type Actor, canSeeProperty } from '../auth/auth.context.ts';
import * as repo from './reservation.repository.ts';
import { type ReservationView, toReservationView } from './reservation.view.ts';

/** A reservation with its guest and rooms, as the API shows it. */
export async function loadView(source: Db | Tx, row: repo.ReservationRow): Promise<ReservationView> {
  const [guests, rooms] = await Promise.all([
    repo.findGuests(source, row.guest_id ? [row.guest_id] : []),
    repo.findRooms(source, [row.id]),
  ]);
  return toReservationView(row, guests[0] ?? null, rooms);
}

/** A reservation the actor may see; another property's reservation does not exist for it (404). */
export async function loadVisible(db: Db, actor: Actor, id: string): Promise<repo.ReservationRow> {
  const row = await repo.findReservation(db, id);
  if (!row || !canSeeProperty(actor, row.property_id)) throw new NotFoundError('Reservation', id);
  return row;
}
