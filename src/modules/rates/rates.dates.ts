// The rates module's date helpers are the shared calendar-date helpers.
export { addDays, datesInRange, daysBetween, isoWeekday } from '../../app/dates.ts';
