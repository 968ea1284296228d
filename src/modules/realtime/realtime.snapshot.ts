import { sql } from 'kysely';
import { DateTime } from 'luxon';
import type { Db } from '../../db/database.ts';
import type { FeedName } from './realtime.feeds.ts';

export const DEFAULT_SNAPSHOT_DAYS = 30;
const RECENT_RESERVATIONS = 50;

export function findPropertyTimezone(db: Db, propertyId: string): Promise<{ timezone: string } | undefined> {
  return db.selectFrom('property').select('timezone').where('id', '=', propertyId).executeTakeFirst();
}

/** The calendar of the next `days` hotel-local nights, from today in the property's timezone. */
async function inventorySnapshot(db: Db, propertyId: string, timezone: string, days: number) {
  const today = DateTime.now().setZone(timezone);
  const start = (today.isValid ? today : DateTime.utc()).toISODate()!;
  const end = DateTime.fromISO(start).plus({ days }).toISODate()!;
  const nights = await db
    .selectFrom('inventory_calendar')
    .select([
      'room_type_id',
      'date',
      'total_units',
      'booked_units',
      'held_units',
      'out_of_order_units',
      'overbooking_limit',
      'overbooked_units',
      'stop_sell',
      sql<number>`greatest(0, total_units - out_of_order_units + overbooking_limit - booked_units - held_units)`.as(
        'available_units',
      ),
    ])
    .where('property_id', '=', propertyId)
    .where('date', '>=', start)
    .where('date', '<', end)
    .orderBy('room_type_id')
    .orderBy('date')
    .execute();
  return { start_date: start, end_date: end, nights };
}

/** The most recently changed reservations. */
async function reservationsSnapshot(db: Db, propertyId: string) {
  const rows = await db
    .selectFrom('reservation')
    .leftJoin('guest', 'guest.id', 'reservation.guest_id')
    .select([
      'reservation.id',
      'reservation.confirmation_code',
      'reservation.status',
      'reservation.check_in',
      'reservation.check_out',
      'reservation.source',
      'reservation.external_id',
      'reservation.total_amount',
      'reservation.currency',
      'reservation.created_at',
      'reservation.updated_at',
      sql<
        string | null
      >`coalesce(guest.full_name, nullif(concat_ws(' ', guest.first_name, guest.last_name), ''))`.as(
        'guest_name',
      ),
    ])
    .where('reservation.property_id', '=', propertyId)
    .orderBy('reservation.updated_at', 'desc')
    .orderBy('reservation.id', 'desc')
    .limit(RECENT_RESERVATIONS)
    .execute();
  return {
    reservations: rows.map((row) => ({
      ...row,
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
    })),
  };
}

/** What a client gets on subscribe: the state that later events change. */
export function loadSnapshot(
  db: Db,
  feed: FeedName,
  propertyId: string,
  timezone: string,
  days = DEFAULT_SNAPSHOT_DAYS,
): Promise<unknown> {
  return feed === 'inventory'
    ? inventorySnapshot(db, propertyId, timezone, days)
    : reservationsSnapshot(db, propertyId);
}

/** Envelopes by outbox seq, for the notifications a listener received. */
export async function loadEnvelopes(db: Db, seqs: number[]): Promise<Map<number, unknown>> {
  const rows = await db
    .selectFrom('outbox_event')
    .select(['seq', 'envelope'])
    .where('seq', 'in', seqs.map(String))
    .execute();
  return new Map(rows.map((row) => [Number(row.seq), row.envelope]));
}
