import { Decimal } from 'decimal.js';
import type { CanonicalStatus } from '../config/config.types.ts';
import type { MappedRecord, MappedRoom } from '../mapping/mapper.ts';

/** One room of a booking (format v2): what it holds, and the PMS's own id for it when it has one. */
export interface CanonicalRoom {
  external_id: string | null;
  /** The room's own status (grouped records, or a PMS that cancels rooms one by one); null: the booking's. */
  status: CanonicalStatus | null;
  room_type_code: string | null;
  room_number: string | null;
  rate_plan_code: string | null;
  adults: number | null;
  children: number | null;
  amount: string | null;
  /** The room's own stay when the PMS gives one; it must be the booking's (null: the booking's). */
  check_in: string | null;
  check_out: string | null;
}

/** The canonical booking (docs/pms-config.md): what every PMS record becomes. */
export interface CanonicalBooking {
  external_id: string;
  status: CanonicalStatus;
  check_in: string;
  check_out: string;
  guest: {
    first_name: string | null;
    last_name: string | null;
    full_name: string | null;
    email: string | null;
    phone: string | null;
  };
  /** The first room's, for readers of format v1: `rooms` has every room. */
  room_type_code: string | null;
  room_number: string | null;
  adults: number | null;
  children: number | null;
  total_amount: string | null;
  currency: string | null;
  source_updated_at: string | null;
  notes: string | null;
  rate_plan_code?: string | null;
  /** Every room (v2); absent means one room made of the flat fields, as in format v1. */
  rooms?: CanonicalRoom[];
  /**
   * A grouped record (v2 `rooms.mode: grouped`): `external_id` is the group's, and `rooms` holds
   * only this record's room; the upsert assembles the group's rooms into one booking.
   */
  grouped?: boolean;
}

function text(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function int(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}

function toRoom(room: MappedRoom): CanonicalRoom {
  return {
    external_id: text(room.external_id),
    status: (room.status ?? null) as CanonicalStatus | null,
    room_type_code: text(room.room_type_code),
    room_number: text(room.room_number),
    rate_plan_code: text(room.rate_plan_code),
    adults: int(room.adults),
    children: int(room.children),
    amount: text(room.amount),
    check_in: text(room.check_in),
    check_out: text(room.check_out),
  };
}

/** The sum of the rooms' amounts, or null when none has one. */
function sumAmounts(rooms: CanonicalRoom[]): string | null {
  const amounts = rooms.map((r) => r.amount).filter((a): a is string => a !== null);
  if (amounts.length === 0) return null;
  return amounts.reduce((sum, a) => sum.plus(a), new Decimal(0)).toFixed();
}

/**
 * Nests a validated flat record into the canonical shape (every field present, null when absent).
 * `rooms` is null for a config without a `rooms` block: its flat fields are its one room.
 */
export function toCanonical(
  record: MappedRecord,
  mappedRooms: MappedRoom[] | null = null,
  grouped = false,
): CanonicalBooking {
  const status = record.status as CanonicalStatus;
  const base = {
    external_id: String(record.external_id),
    status,
    check_in: String(record.check_in),
    check_out: String(record.check_out),
    guest: {
      first_name: text(record['guest.first_name']),
      last_name: text(record['guest.last_name']),
      full_name: text(record['guest.full_name']),
      email: text(record['guest.email']),
      phone: text(record['guest.phone']),
    },
  };
  if (mappedRooms === null) {
    // A config without rooms: the format v1 booking, its flat fields its one room.
    return {
      ...base,
      room_type_code: text(record.room_type_code),
      room_number: text(record.room_number),
      adults: int(record.adults),
      children: int(record.children),
      total_amount: text(record.total_amount),
      currency: text(record.currency),
      source_updated_at: text(record.source_updated_at),
      notes: text(record.notes),
      ...('rate_plan_code' in record ? { rate_plan_code: text(record.rate_plan_code) } : {}),
    };
  }
  const rooms = mappedRooms.map(toRoom);
  if (grouped) {
    // Each grouped record is one room: its status and stay are the record's.
    for (const room of rooms) {
      room.status = status;
      room.check_in = base.check_in;
      room.check_out = base.check_out;
    }
  }
  const first = rooms[0];
  return {
    ...base,
    room_type_code: first?.room_type_code ?? null,
    room_number: first?.room_number ?? null,
    adults: first?.adults ?? null,
    children: first?.children ?? null,
    total_amount: text(record.total_amount) ?? sumAmounts(rooms),
    currency: text(record.currency),
    source_updated_at: text(record.source_updated_at),
    notes: text(record.notes),
    rate_plan_code: first?.rate_plan_code ?? null,
    rooms,
    ...(grouped ? { grouped: true } : {}),
  };
}

/** Every room of a booking: a format v1 booking is one room made of its flat fields. */
export function roomsOf(booking: CanonicalBooking): CanonicalRoom[] {
  return (
    booking.rooms ?? [
      {
        external_id: null,
        status: null,
        room_type_code: booking.room_type_code,
        room_number: booking.room_number,
        rate_plan_code: booking.rate_plan_code ?? null,
        adults: booking.adults,
        children: booking.children,
        amount: booking.total_amount,
        check_in: null,
        check_out: null,
      },
    ]
  );
}
