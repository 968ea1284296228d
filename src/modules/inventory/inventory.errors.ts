import { ConflictError, DomainError } from '../../app/errors.ts';

/** Why a night cannot be sold (DESIGN.md §5, POST /api/inventory/check/). */
export type NightReason =
  | 'SOLD_OUT'
  | 'STOP_SELL'
  | 'NOT_LOADED'
  | 'CLOSED_TO_ARRIVAL'
  | 'CLOSED_TO_DEPARTURE'
  | 'MIN_STAY'
  | 'MAX_STAY'
  | 'NO_RATE'
  | 'PAST_NIGHT';

export interface BlockedNight {
  room_type_id: string;
  date: string;
  reason: NightReason;
  available_units: number;
}

/** Some night of the stay cannot take the units asked for (sold out, stop-sell, not loaded). */
export class InventoryUnavailableError extends ConflictError {
  readonly nights: BlockedNight[];
  constructor(nights: BlockedNight[]) {
    const first = nights[0];
    super(
      first
        ? `No availability for ${nights.length} night(s), first ${first.date} (${first.reason}).`
        : 'No availability for the requested nights.',
      'INVENTORY_UNAVAILABLE',
      { nights },
    );
    this.nights = nights;
  }
}

/** Fail-fast locking gave up after its retries, or a lock wait exceeded the lock timeout. */
export class InventoryBusyError extends ConflictError {
  constructor() {
    super('The nights are being changed by other requests; retry shortly.', 'INVENTORY_BUSY');
  }
}

/** An admin change would leave a night with more units sold or held than it can sell (invariant 2). */
export class InventoryConflictError extends ConflictError {
  constructor(roomTypeId: string, date: string, detail: string) {
    super(`Night ${date} of room type ${roomTypeId}: ${detail}`, 'INVENTORY_CONFLICT', {
      room_type_id: roomTypeId,
      date,
    });
  }
}

export class HoldNotActiveError extends ConflictError {
  constructor(holdId: string, status: string) {
    super(`Hold ${holdId} is ${status}, not active.`, 'HOLD_NOT_ACTIVE', {
      hold_id: holdId,
      hold_status: status,
    });
  }
}

export class HoldMismatchError extends DomainError {
  constructor(message: string) {
    super('HOLD_MISMATCH', 409, message);
  }
}
