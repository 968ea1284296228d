import { ValidationError } from '../../app/errors.ts';

const DAY_MS = 86_400_000;

function toEpochDay(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / DAY_MS;
}

function fromEpochDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The date `days` after `date` (both hotel-local calendar dates, no time zone involved). */
export function addDays(date: string, days: number): string {
  return fromEpochDay(toEpochDay(date) + days);
}

/** Number of nights from check-in (inclusive) to check-out (exclusive). */
export function nightCount(checkIn: string, checkOut: string): number {
  return toEpochDay(checkOut) - toEpochDay(checkIn);
}

/** The nights of a stay: check-in inclusive, check-out exclusive. */
export function nightsOf(checkIn: string, checkOut: string): string[] {
  const first = toEpochDay(checkIn);
  const last = toEpochDay(checkOut);
  const nights: string[] = [];
  for (let day = first; day < last; day++) nights.push(fromEpochDay(day));
  return nights;
}

/** Today's date in a time zone (hotel-local), as YYYY-MM-DD. */
export function todayIn(timeZone = 'UTC'): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date());
}

/**
 * Refuses a range whose end is not after its start or that is longer than `maxNights`, naming the
 * fields so the client sees which value to fix.
 */
export function assertRange(
  start: string,
  end: string,
  maxNights: number,
  fields: { start: string; end: string },
): void {
  const nights = nightCount(start, end);
  if (!Number.isFinite(nights) || nights < 1) {
    throw new ValidationError(`${fields.end} must be after ${fields.start}.`, [
      { pointer: fields.end, message: `must be after ${fields.start.split('/').pop()}` },
    ]);
  }
  if (nights > maxNights) {
    throw new ValidationError(`The range may cover at most ${maxNights} nights.`, [
      {
        pointer: fields.end,
        message: `is more than ${maxNights} nights after ${fields.start.split('/').pop()}`,
      },
    ]);
  }
}
