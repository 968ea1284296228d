/**
 * The availability check the booking bench measures, shared by the bench and its paced-check
 * worker: a 30-night stay on a random spread room type.
 */
import { addDays } from '../src/modules/inventory/inventory.dates.ts';
import type { JsonClient } from './load.ts';

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
