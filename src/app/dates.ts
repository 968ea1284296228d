/**
 * Hotel-local calendar dates ('YYYY-MM-DD'). Arithmetic runs on UTC days so no time zone or
 * daylight-saving change ever shifts a night.
 */
const DAY_MS = 86_400_000;

// Booking, pricing and availability convert the same few hundred nights over and over, and
// Date parsing and formatting cost microseconds each: the conversions are remembered.
const MEMO_LIMIT = 20_000;
const epochDays = new Map<string, number>();
const isoDates = new Map<number, string>();

function toEpochDay(date: string): number {
  let day = epochDays.get(date);
  if (day === undefined) {
    day = Date.parse(`${date}T00:00:00Z`) / DAY_MS;
    if (epochDays.size >= MEMO_LIMIT) epochDays.clear();
    epochDays.set(date, day);
  }
  return day;
}

function fromEpochDay(day: number): string {
  let date = isoDates.get(day);
  if (date === undefined) {
    date = new Date(day * DAY_MS).toISOString().slice(0, 10);
    if (isoDates.size >= MEMO_LIMIT) isoDates.clear();
    isoDates.set(day, date);
  }
  return date;
}

/** The date `days` after `date`. */
export function addDays(date: string, days: number): string {
  return fromEpochDay(toEpochDay(date) + days);
}

/** Whole days from `start` to `end` (negative when `end` is earlier). */
export function daysBetween(start: string, end: string): number {
  return Math.round(toEpochDay(end) - toEpochDay(start));
}

/** Number of nights from check-in (inclusive) to check-out (exclusive). */
export function nightCount(checkIn: string, checkOut: string): number {
  return toEpochDay(checkOut) - toEpochDay(checkIn);
}

/** The nights of a stay: check-in inclusive, check-out exclusive. */
export function nightsOf(checkIn: string, checkOut: string): string[] {
  const nights: string[] = [];
  for (let day = toEpochDay(checkIn), last = toEpochDay(checkOut); day < last; day++)
    nights.push(fromEpochDay(day));
  return nights;
}

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): number {
  const day = new Date(toEpochDay(date) * DAY_MS).getUTCDay();
  return day === 0 ? 7 : day;
}

/** The dates from `start` to `last`, both inclusive, keeping only the given ISO weekdays. */
export function datesInRange(start: string, last: string, weekdays?: ReadonlySet<number>): string[] {
  const dates: string[] = [];
  for (let day = toEpochDay(start), end = toEpochDay(last); day <= end; day++) {
    const date = fromEpochDay(day);
    if (!weekdays || weekdays.has(isoWeekday(date))) dates.push(date);
  }
  return dates;
}

/** Today's date in a time zone (hotel-local). */
export function todayIn(timeZone = 'UTC'): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date());
}
