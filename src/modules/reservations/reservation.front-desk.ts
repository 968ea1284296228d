import {
  ConflictError,
  DomainError,
  ForbiddenError,
  NotFoundError,
  ValidationError,
} from '../../app/errors.ts';
import type { Tx } from '../../db/database.ts';
import type { Actor } from '../auth/auth.context.ts';
import { readSalesState } from '../properties/business-date.repository.ts';
import { assertOccupancy } from '../properties/max-occupancy.ts';
import { computeFee, type Fee, type FeeRoomInput, feeColumns } from './reservation.fees.ts';
import type { RoomRequest } from './reservation.pricing.ts';
import type { ReservationRow } from './reservation.repository.ts';

/**
 * The front-desk rules of issue #23 that bookings and lifecycle actions share: who may give rooms
 * away, how many guests a unit holds, which day check-in and no-show open, and what cancelling
 * or not showing up costs. Kept here so the booking and lifecycle files only call them.
 */

/** Rooms that have no rate plan while the property has no default plan either. */
export class RatePlanRequiredError extends DomainError {
  constructor(roomIndexes: number[]) {
    super(
      'RATE_PLAN_REQUIRED',
      422,
      'A room needs a rate_plan_id: the property has no default rate plan (set default_rate_plan_id on the ' +
        'property), and a free stay must be booked as complimentary by an administrator.',
      {
        errors: roomIndexes.map((index) => ({
          pointer: `/body/rooms/${index}/rate_plan_id`,
          message: 'is required: the property has no default rate plan',
        })),
      },
    );
  }
}

export class CheckInTooEarlyError extends ConflictError {
  constructor(row: Pick<ReservationRow, 'id' | 'check_in'>, businessDate: string) {
    super(
      `Reservation ${row.id} arrives on ${row.check_in}; the hotel's business date is ${businessDate}. ` +
        'Check-in opens on the arrival day.',
      'CHECK_IN_TOO_EARLY',
      { check_in: row.check_in, business_date: businessDate },
    );
  }
}

export class NoShowTooEarlyError extends ConflictError {
  constructor(row: Pick<ReservationRow, 'id' | 'check_in'>, businessDate: string) {
    super(
      `Reservation ${row.id} arrives on ${row.check_in}; the hotel's business date is ${businessDate}. ` +
        'A no-show can be declared once the arrival day is over (the night audit declares it then).',
      'NO_SHOW_TOO_EARLY',
      { check_in: row.check_in, business_date: businessDate },
    );
  }
}

/**
 * A complimentary (0.00) room is an administrator's decision, recorded in the audit log; it is
 * priced on no plan, so naming one as well is a contradiction.
 */
export function assertComplimentaryAllowed(actor: Actor, rooms: RoomRequest[]): void {
  const named = rooms.findIndex((room) => room.complimentary && room.rate_plan_id);
  if (named !== -1) {
    throw new ValidationError('A complimentary room is priced on no rate plan: leave rate_plan_id out.', [
      { pointer: `/body/rooms/${named}/rate_plan_id`, message: 'must be left out of a complimentary room' },
    ]);
  }
  if (actor.role === 'STAFF' && rooms.some((room) => room.complimentary)) {
    throw new ForbiddenError('Only property administrators may book or change complimentary rooms.');
  }
}

/** Each room's adults and children must fit its room type's max_occupancy. */
export function assertRoomsFit(
  rooms: RoomRequest[],
  roomTypes: Array<{ id: string; max_occupancy: number }>,
): void {
  const max = new Map(roomTypes.map((roomType) => [roomType.id, roomType.max_occupancy]));
  assertOccupancy(
    rooms.map((room, index) => ({
      roomTypeId: room.room_type_id,
      adults: room.adults ?? 1,
      children: room.children ?? 0,
      pointer: `/body/rooms/${index}`,
    })),
    (id) => max.get(id),
  );
}

/**
 * What a lifecycle action needs beyond the state machine, decided in its transaction: check-in
 * opens on the arrival day (business date ≥ check_in), a no-show once that day is over (business
 * date > check_in); cancel and no-show record their fee. Imported reservations are the PMS's.
 */
export async function frontDeskChanges(
  tx: Tx,
  row: ReservationRow,
  action: string,
  rooms: FeeRoomInput[],
  at = new Date(),
): Promise<{ fee: Fee | null; changes: Partial<ReturnType<typeof feeColumns>> }> {
  if (action !== 'check-in' && action !== 'no-show' && action !== 'cancel') return { fee: null, changes: {} };
  const property = await readSalesState(tx, row.property_id);
  if (!property) throw new NotFoundError('Property', row.property_id);
  if (action === 'check-in') {
    if (property.business_date < row.check_in) throw new CheckInTooEarlyError(row, property.business_date);
    return { fee: null, changes: {} };
  }
  if (action === 'no-show' && property.business_date <= row.check_in) {
    throw new NoShowTooEarlyError(row, property.business_date);
  }
  const fee = computeFee(action === 'cancel' ? 'cancellation' : 'no_show', {
    checkIn: row.check_in,
    currency: row.currency,
    timeZone: property.timezone,
    at,
    rooms,
  });
  return { fee, changes: feeColumns(fee) };
}
