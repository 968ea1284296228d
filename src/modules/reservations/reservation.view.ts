import { nightCount } from '../inventory/inventory.dates.ts';
import { feeView } from './reservation.fees.ts';
import type { GuestRow, ReservationRoomRow, ReservationRow } from './reservation.repository.ts';

type GuestFields = Pick<GuestRow, 'id' | 'first_name' | 'last_name' | 'full_name' | 'email' | 'phone'>;
type RoomFields = Pick<
  ReservationRoomRow,
  'id' | 'room_type_id' | 'rate_plan_id' | 'room_id' | 'adults' | 'children' | 'nightly_prices' | 'amount'
> &
  Partial<Pick<ReservationRoomRow, 'complimentary' | 'cancellation_policy'>>;

function iso(value: Date | null): string | null {
  return value ? value.toISOString() : null;
}

/** The wire shape of a reservation (snake_case, money as decimal strings). */
export function toReservationView(
  reservation: ReservationRow,
  guest: GuestFields | null,
  rooms: RoomFields[],
) {
  return {
    id: reservation.id,
    property_id: reservation.property_id,
    confirmation_code: reservation.confirmation_code,
    status: reservation.status,
    check_in: reservation.check_in,
    check_out: reservation.check_out,
    nights: nightCount(reservation.check_in, reservation.check_out),
    source: reservation.source,
    external_id: reservation.external_id,
    total_amount: reservation.total_amount,
    currency: reservation.currency,
    notes: reservation.notes,
    hold_id: reservation.hold_id,
    version: reservation.version,
    guest: guest
      ? {
          id: guest.id,
          first_name: guest.first_name,
          last_name: guest.last_name,
          full_name: guest.full_name,
          email: guest.email,
          phone: guest.phone,
        }
      : null,
    rooms: rooms.map((room) => ({
      id: room.id,
      room_type_id: room.room_type_id,
      rate_plan_id: room.rate_plan_id,
      room_id: room.room_id,
      adults: room.adults,
      children: room.children,
      amount: room.amount,
      nightly_prices: room.nightly_prices,
      complimentary: room.complimentary ?? false,
      cancellation_policy: room.cancellation_policy ?? null,
    })),
    created_by: reservation.created_by,
    created_at: reservation.created_at.toISOString(),
    updated_at: reservation.updated_at.toISOString(),
    cancelled_at: iso(reservation.cancelled_at),
    fee: feeView(reservation),
  };
}

export type ReservationView = ReturnType<typeof toReservationView>;
