/** Hotel-local nights as 'YYYY-MM-DD' strings; arithmetic in UTC so no time zone shifts a night. */

const DAY_MS = 86_400_000;

function toUtc(date: string): number {
  const [year, month, day] = date.split('-').map(Number);
  return Date.UTC(year!, month! - 1, day!);
}

function fromUtc(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return fromUtc(toUtc(date) + days * DAY_MS);
}

/** Whole days from `start` to `end` (negative when `end` is earlier). */
export function daysBetween(start: string, end: string): number {
  return Math.round((toUtc(end) - toUtc(start)) / DAY_MS);
}

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): number {
  const day = new Date(toUtc(date)).getUTCDay();
  return day === 0 ? 7 : day;
}

/** The dates from `start` to `last`, both inclusive, keeping only the given ISO weekdays. */
export function datesInRange(start: string, last: string, weekdays?: ReadonlySet<number>): string[] {
  const dates: string[] = [];
  for (let time = toUtc(start), end = toUtc(last); time <= end; time += DAY_MS) {
    const date = fromUtc(time);
    if (!weekdays || weekdays.has(isoWeekday(date))) dates.push(date);
  }
  return dates;
}
