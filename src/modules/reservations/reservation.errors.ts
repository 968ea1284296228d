import { ConflictError, DomainError } from '../../app/errors.ts';
import type { ReservationStatus } from '../../db/schema.ts';
import type { NightReason } from '../inventory/inventory.errors.ts';

/** A lifecycle action the reservation's current state does not allow; names the state. */
export class InvalidStateTransitionError extends ConflictError {
  constructor(id: string, current: ReservationStatus, action: string) {
    super(`Reservation ${id} is ${current}; it cannot ${action}.`, 'INVALID_STATE_TRANSITION', {
      current_status: current,
      action,
    });
  }
}

/** The stay breaks a rule of its rate plan (closed to arrival/departure, min/max stay, stop-sell, no rate). */
export class RestrictionViolatedError extends ConflictError {
  constructor(
    nights: Array<{ room_type_id: string; rate_plan_id: string; date: string; reasons: NightReason[] }>,
  ) {
    const first = nights[0];
    super(
      first
        ? `The stay breaks its rate plan's rules: ${first.reasons.join(', ')} on ${first.date}.`
        : "The stay breaks its rate plan's rules.",
      'RESTRICTION_VIOLATED',
      { nights },
    );
  }
}

/** The same Idempotency-Key was sent before with a different request body. */
export class IdempotencyKeyReusedError extends DomainError {
  constructor() {
    super(
      'IDEMPOTENCY_KEY_REUSED',
      422,
      'This Idempotency-Key was already used with a different request; use a new key for a new request.',
    );
  }
}

/** Reservations imported from an external PMS change there, not through this API. */
export class ExternalReservationError extends ConflictError {
  constructor(id: string, source: string) {
    super(
      `Reservation ${id} comes from ${source}; change it in that PMS (it is imported from there).`,
      'RESERVATION_EXTERNAL',
    );
  }
}

export class RoomUnavailableError extends ConflictError {
  constructor(message: string) {
    super(message, 'ROOM_UNAVAILABLE');
  }
}
