import { sql } from 'kysely';
import type { Tx } from '../../db/database.ts';
import type { GuestRow, NewGuest, ReservationRow } from './reservation.repository.ts';

/** The writes of a stay's departure change and of guest details. */

/** New nightly prices of one room (an extended or shortened stay). */
export async function setRoomNights(
  tx: Tx,
  reservationRoomId: string,
  prices: { nightly_prices: Array<{ date: string; amount: string }>; amount: string },
): Promise<void> {
  await tx
    .updateTable('reservation_room')
    .set({ nightly_prices: JSON.stringify(prices.nightly_prices), amount: prices.amount })
    .where('id', '=', reservationRoomId)
    .execute();
}

/** A stay's new departure and total; the triggers carry the dates to its assigned rooms. */
export function setDeparture(
  tx: Tx,
  id: string,
  changes: { check_out: string; total_amount: string },
): Promise<ReservationRow> {
  return tx
    .updateTable('reservation')
    .set({ ...changes, version: sql<number>`version + 1`, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function updateGuest(
  tx: Tx,
  guestId: string,
  fields: Pick<GuestRow, 'first_name' | 'last_name' | 'full_name' | 'email' | 'phone'>,
): Promise<GuestRow> {
  return tx
    .updateTable('guest')
    .set(fields)
    .where('id', '=', guestId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function insertGuest(tx: Tx, guest: NewGuest): Promise<GuestRow> {
  return tx.insertInto('guest').values(guest).returningAll().executeTakeFirstOrThrow();
}

/** Notes and guest of a reservation, with its version bumped (details changed). */
export function setDetails(
  tx: Tx,
  id: string,
  changes: { notes?: string | null; guest_id?: string },
): Promise<ReservationRow> {
  return tx
    .updateTable('reservation')
    .set({ ...changes, version: sql<number>`version + 1`, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}
