import { nightCount } from '../../app/dates.ts';
import { ValidationError } from '../../app/errors.ts';

export { addDays, nightCount, nightsOf, todayIn } from '../../app/dates.ts';

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
