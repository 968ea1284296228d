/**
 * The availability check the booking bench measures, shared by the bench and its paced-check
 * worker: a 30-night stay on a random spread room type, through the API or as the raw SQL read.
 */
import type pg from 'pg';
import { addDays } from '../src/modules/inventory/inventory.dates.ts';
import type { JsonClient, Outcome } from './load.ts';

export const FIRST_NIGHT = '2031-01-01';
export const DAYS = 400;
export const CHECK_NIGHTS = 30;

export const randomInt = (n: number) => Math.floor(Math.random() * n);

export const checkStay = (spread: readonly string[]) => ({
  roomTypeId: spread[randomInt(spread.length)]!,
  checkIn: addDays(FIRST_NIGHT, randomInt(DAYS - CHECK_NIGHTS)),
});

/** One check through the API: ok when it answers every night. */
export async function apiCheck(client: JsonClient, spread: readonly string[]) {
  const stay = checkStay(spread);
  const response = await client.post('/api/inventory/check/', {
    room_type_id: stay.roomTypeId,
    check_in: stay.checkIn,
    check_out: addDays(stay.checkIn, CHECK_NIGHTS),
  });
  return response.status === 200 && response.body.nights?.length === CHECK_NIGHTS
    ? { outcome: 'ok' as const }
    : { outcome: 'failed' as const, detail: `${response.status} ${response.body.code ?? ''}`.trim() };
}

/** The same 30 nights as one raw SQL read (the physical limit of a check): ok when all are read. */
export async function rawRead(
  pool: pg.Pool,
  spread: readonly string[],
): Promise<{ outcome: Outcome; detail?: string }> {
  const stay = checkStay(spread);
  const result = await pool.query(
    `SELECT date, total_units - out_of_order_units + overbooking_limit - booked_units - held_units AS available,
            stop_sell FROM inventory_calendar WHERE room_type_id = $1 AND date >= $2 AND date < $3 ORDER BY date`,
    [stay.roomTypeId, stay.checkIn, addDays(stay.checkIn, CHECK_NIGHTS)],
  );
  return result.rowCount === CHECK_NIGHTS ? { outcome: 'ok' } : { outcome: 'failed', detail: 'short read' };
}
