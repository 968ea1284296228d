import type { Guest, Reservation, ReservationStatus } from './types.ts';

export const STATUS_LABEL: Record<ReservationStatus, string> = {
  tentative: 'Tentative',
  confirmed: 'Confirmed',
  checked_in: 'Checked in',
  checked_out: 'Checked out',
  cancelled: 'Cancelled',
  no_show: 'No-show',
};

export const STATUS_TONE: Record<ReservationStatus, 'ok' | 'info' | 'warn' | 'bad' | 'muted'> = {
  tentative: 'warn',
  confirmed: 'ok',
  checked_in: 'info',
  checked_out: 'muted',
  cancelled: 'bad',
  no_show: 'bad',
};

export function guestName(
  guest: Pick<Guest, 'full_name' | 'first_name' | 'last_name'> | null | undefined,
): string {
  if (!guest) return '—';
  return guest.full_name || [guest.first_name, guest.last_name].filter(Boolean).join(' ') || '—';
}

export type LifecycleAction = 'confirm' | 'check-in' | 'check-out' | 'no-show' | 'cancel';

/** The transitions the API allows from each status (it refuses the others with a 409). */
export function allowedActions(reservation: Pick<Reservation, 'status'>): LifecycleAction[] {
  switch (reservation.status) {
    case 'tentative':
      return ['confirm', 'check-in', 'no-show', 'cancel'];
    case 'confirmed':
      return ['check-in', 'no-show', 'cancel'];
    case 'checked_in':
      return ['check-out'];
    default:
      return [];
  }
}

export const ACTION_LABEL: Record<LifecycleAction, string> = {
  confirm: 'Confirm',
  'check-in': 'Check in',
  'check-out': 'Check out',
  'no-show': 'Mark no-show',
  cancel: 'Cancel reservation',
};

export const REASON_TEXT: Record<string, string> = {
  SOLD_OUT: 'sold out',
  STOP_SELL: 'stop-sell',
  NOT_LOADED: 'not loaded',
  CLOSED_TO_ARRIVAL: 'closed to arrival',
  CLOSED_TO_DEPARTURE: 'closed to departure',
  MIN_STAY: 'minimum stay not met',
  MAX_STAY: 'maximum stay exceeded',
  NO_RATE: 'no rate loaded',
};

export function money(amount: string | null | undefined, currency: string): string {
  return amount === null || amount === undefined ? '—' : `${amount} ${currency}`;
}

/** Dates and rooms can change while the stay has not started. */
export function canModify(reservation: Pick<Reservation, 'status'>): boolean {
  return reservation.status === 'tentative' || reservation.status === 'confirmed';
}
