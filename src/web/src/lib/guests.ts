import type { ReservationStatus } from './types.ts';

/** A guest profile as GET /api/guests/ shows it: the stay fields count the caller's properties only. */
export interface GuestProfile {
  id: string;
  first_name: string | null;
  last_name: string | null;
  full_name: string | null;
  email: string | null;
  phone: string | null;
  erased: boolean;
  erased_at: string | null;
  created_at: string;
  updated_at: string;
  stay_count: number;
  last_check_in: string | null;
  property_ids: string[];
}

export interface GuestStay {
  reservation_id: string;
  property_id: string;
  confirmation_code: string;
  status: ReservationStatus;
  check_in: string;
  check_out: string;
  nights: number;
  total_amount: string;
  currency: string;
  source: string;
  guest_name: string | null;
}

export interface GuestDetail extends GuestProfile {
  stays: GuestStay[];
}

export interface ErasureResult {
  guest: GuestProfile;
  erased: { guest_rows: number; reservations: number; documents: number; quarantined_records: number };
}

export function profileName(guest: Pick<GuestProfile, 'full_name' | 'erased'>): string {
  if (guest.erased) return 'Erased guest';
  return guest.full_name ?? '(no name)';
}
