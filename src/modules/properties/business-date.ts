import { DateTime } from 'luxon';
import { ConflictError, DomainError } from '../../app/errors.ts';

/**
 * The business date: the hotel's current trading day. Sales never start before it, check-in opens
 * on the arrival day and a no-show can be declared once the arrival day is over. The night audit
 * rolls it when the hotel's local day has passed (docs/inventory.md, "Business date and night audit").
 */

/** What selling at a property depends on, as read (or locked) in the caller's transaction. */
export interface SalesState {
  id: string;
  code: string;
  status: 'active' | 'inactive';
  timezone: string;
  currency: string;
  business_date: string;
  default_rate_plan_id: string | null;
}

/** The calendar date of an instant in a time zone (hotel-local). */
export function localDate(timeZone: string, at: Date = new Date()): string {
  return DateTime.fromJSDate(at, { zone: timeZone }).toISODate()!;
}

/** An inactive property sells nothing (bookings, holds, quotes); its PMS imports still land. */
export class PropertyInactiveError extends ConflictError {
  constructor(state: Pick<SalesState, 'id' | 'code'>) {
    super(
      `Property ${state.code} is inactive: it does not sell rooms. Set its status to "active" to sell again.`,
      'PROPERTY_INACTIVE',
      { property_id: state.id },
    );
  }
}

/** A sale whose first night is before the hotel's business date: that night is over. */
export class ArrivalInPastError extends DomainError {
  constructor(checkIn: string, businessDate: string, pointer: string) {
    super(
      'ARRIVAL_IN_PAST',
      422,
      `The stay starts on ${checkIn}, before the hotel's business date ${businessDate}; past nights cannot be sold.`,
      { business_date: businessDate, errors: [{ pointer, message: `must not be before ${businessDate}` }] },
    );
  }
}

/** Refuses a sale at an inactive property or of nights before its business date. */
export function assertSelling(state: SalesState, checkIn: string, pointer = '/body/check_in'): void {
  if (state.status !== 'active') throw new PropertyInactiveError(state);
  if (checkIn < state.business_date) throw new ArrivalInPastError(checkIn, state.business_date, pointer);
}
