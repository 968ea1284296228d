import type { CanonicalStatus } from '../config/config.types.ts';
import type { MappedRecord } from '../mapping/mapper.ts';

/** The canonical booking (PMS_CONFIG.md): what every PMS record becomes. */
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
  room_type_code: string | null;
  room_number: string | null;
  adults: number | null;
  children: number | null;
  total_amount: string | null;
  currency: string | null;
  source_updated_at: string | null;
  notes: string | null;
}

function text(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function int(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}

/** Nests a validated flat record into the canonical shape (every field present, null when absent). */
export function toCanonical(record: MappedRecord): CanonicalBooking {
  return {
    external_id: String(record.external_id),
    status: record.status as CanonicalStatus,
    check_in: String(record.check_in),
    check_out: String(record.check_out),
    guest: {
      first_name: text(record['guest.first_name']),
      last_name: text(record['guest.last_name']),
      full_name: text(record['guest.full_name']),
      email: text(record['guest.email']),
      phone: text(record['guest.phone']),
    },
    room_type_code: text(record.room_type_code),
    room_number: text(record.room_number),
    adults: int(record.adults),
    children: int(record.children),
    total_amount: text(record.total_amount),
    currency: text(record.currency),
    source_updated_at: text(record.source_updated_at),
    notes: text(record.notes),
  };
}
