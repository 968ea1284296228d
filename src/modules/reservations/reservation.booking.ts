import { ConflictError, DomainError, NotFoundError } from '../../app/errors.ts';
import type { Db } from '../../db/database.ts';
import { auditRole, fieldDiff } from '../audit/audit.repository.ts';
import type { Actor } from '../auth/auth.context.ts';
import { buildEnvelope } from '../events/outbox.ts';
import type { StayUnits } from '../inventory/inventory.contract.ts';
import {
  HoldMismatchError,
  HoldNotActiveError,
  InventoryUnavailableError,
} from '../inventory/inventory.errors.ts';
import { effectiveHoldStatus, holdStay } from '../inventory/inventory.holds.ts';
import {
  inInventoryTransaction,
  type LockSettings,
  lockStays,
  writeLockedNights,
} from '../inventory/inventory.locking.ts';
import type { LockedNights } from '../inventory/inventory.nights.ts';
import type { HoldRow } from '../inventory/inventory.repository.ts';
import * as holdsRepo from '../inventory/inventory.repository.ts';
import { lockSalesState } from '../properties/business-date.repository.ts';
import { assertSelling } from '../properties/business-date.ts';
import { IdempotencyKeyReusedError } from './reservation.errors.ts';
import { IDEMPOTENCY_TTL_MS } from './reservation.idempotency.ts';
import * as repo from './reservation.repository.ts';
import { type ReservationView, toReservationView } from './reservation.view.ts';

/** Everything a booking needs, decided before any lock is taken (validation, pricing, ids). */
export interface BookingPlan {
  actor: Actor;
  requestId: string | null;
  idempotency: { key: string; hash: string } | null;
  propertyId: string;
  holdId: string | null;
  guest: repo.NewGuest;
  reservation: repo.NewReservation;
  rooms: repo.NewRoom[];
  /** Units per room type over the stay's nights. */
  stays: StayUnits[];
}

export type BookingOutcome =
  | { kind: 'created'; view: ReservationView }
  | { kind: 'replayed'; status: number; body: unknown }
  | { kind: 'refused'; error: Error };

const keyOf = (plan: BookingPlan) => (plan.idempotency ? `${plan.actor.id}|${plan.idempotency.key}` : null);

function viewOf(plan: BookingPlan): ReservationView {
  const { reservation } = plan;
  return toReservationView(
    {
      ...reservation,
      source: 'direct',
      external_id: null,
      source_updated_at: null,
      version: 1,
      updated_at: reservation.created_at,
      cancelled_at: null,
      fee_amount: null,
      fee_currency: null,
      fee_policy: null,
    },
    plan.guest,
    plan.rooms,
  );
}

/** Why a hold cannot become this booking, or undefined when it can. */
function holdProblem(plan: BookingPlan, hold: HoldRow | undefined): Error | undefined {
  if (!hold || hold.property_id !== plan.propertyId)
    return new HoldMismatchError(`Hold ${plan.holdId} was not found.`);
  const status = effectiveHoldStatus(hold);
  if (status !== 'active') return new HoldNotActiveError(hold.id, status);
  const [stay, ...others] = plan.stays;
  const matches =
    others.length === 0 &&
    stay !== undefined &&
    stay.roomTypeId === hold.room_type_id &&
    stay.checkIn === hold.check_in &&
    stay.checkOut === hold.check_out &&
    stay.units === hold.units;
  if (!matches) {
    return new HoldMismatchError(
      `Hold ${hold.id} is for ${hold.units} unit(s) of room type ${hold.room_type_id} from ${hold.check_in} ` +
        `to ${hold.check_out}; the reservation must book exactly that.`,
    );
  }
  return undefined;
}

/**
 * Books several plans of one property in one transaction: claim idempotency keys, lock holds,
 * lock every night once (key order), decide each plan in arrival order against the locked counts,
 * then write the accepted ones with a fixed number of statements. A plan refused for inventory,
 * a hold or its key does not affect the others.
 */
async function bookTogether(db: Db, lock: LockSettings, plans: BookingPlan[]): Promise<BookingOutcome[]> {
  const propertyId = plans[0]!.propertyId;
  return inInventoryTransaction(db, lock, async (tx, mode) => {
    const outcomes: Array<BookingOutcome | undefined> = plans.map(() => undefined);
    const pending = () => plans.map((plan, i) => ({ plan, i })).filter(({ i }) => outcomes[i] === undefined);

    const keyed = pending().filter(({ plan }) => plan.idempotency);
    const expiresAt = new Date(Date.now() + IDEMPOTENCY_TTL_MS);
    const claimed = new Set(
      (
        await repo.claimIdempotencyKeys(
          tx,
          keyed.map(({ plan }) => ({
            userId: plan.actor.id,
            key: plan.idempotency!.key,
            hash: plan.idempotency!.hash,
            expiresAt,
          })),
        )
      ).map((ref) => `${ref.userId}|${ref.key}`),
    );
    const taken = keyed.filter(({ plan }) => !claimed.has(keyOf(plan)!));
    if (taken.length > 0) {
      const stored = await repo.findIdempotencyKeys(
        tx,
        taken.map(({ plan }) => ({ userId: plan.actor.id, key: plan.idempotency!.key })),
      );
      for (const { plan, i } of taken) {
        const row = stored.find((s) => s.user_id === plan.actor.id && s.key === plan.idempotency!.key);
        if (!row || row.response_status === null) {
          outcomes[i] = {
            kind: 'refused',
            error: new ConflictError('The request is being retried; retry it.'),
          };
        } else if (row.request_hash !== plan.idempotency!.hash) {
          outcomes[i] = { kind: 'refused', error: new IdempotencyKeyReusedError() };
        } else {
          outcomes[i] = { kind: 'replayed', status: row.response_status, body: row.response_body };
        }
      }
    }

    // The property under a share lock: refused when it stopped selling or its business date moved
    // past the stay's arrival since the plan was priced (the night audit holds the row meanwhile).
    const property = await lockSalesState(tx, propertyId);
    for (const { plan, i } of pending()) {
      try {
        if (!property) throw new NotFoundError('Property', propertyId);
        assertSelling(property, plan.reservation.check_in);
      } catch (error) {
        outcomes[i] = { kind: 'refused', error: error as Error };
      }
    }

    // One look-up for the whole batch: every room type must belong to the property, whose
    // currency prices the plans that have no rate plan.
    const roomTypeIds = [
      ...new Set(pending().flatMap(({ plan }) => plan.rooms.map((room) => room.room_type_id))),
    ];
    const roomTypes = new Map((await holdsRepo.findRoomTypes(tx, roomTypeIds)).map((rt) => [rt.id, rt]));
    for (const { plan, i } of pending()) {
      const foreign = plan.rooms.find((room) => roomTypes.get(room.room_type_id)?.property_id !== propertyId);
      if (foreign) {
        outcomes[i] = { kind: 'refused', error: new NotFoundError('Room type', foreign.room_type_id) };
      } else if (plan.reservation.currency === '') {
        plan.reservation.currency = roomTypes.get(plan.rooms[0]!.room_type_id)!.currency;
      }
    }

    const holdIds = [...new Set(pending().flatMap(({ plan }) => (plan.holdId ? [plan.holdId] : [])))];
    const holds = new Map((await holdsRepo.lockHolds(tx, holdIds)).map((hold) => [hold.id, hold]));
    const confirmedHolds: string[] = [];
    for (const { plan, i } of pending()) {
      if (!plan.holdId) continue;
      const problem = holdProblem(plan, holds.get(plan.holdId));
      if (problem || confirmedHolds.includes(plan.holdId)) {
        outcomes[i] = { kind: 'refused', error: problem ?? new HoldNotActiveError(plan.holdId, 'confirmed') };
      } else {
        confirmedHolds.push(plan.holdId);
      }
    }
    await holdsRepo.setHoldStatus(tx, confirmedHolds, 'confirmed');

    let nights: LockedNights | undefined;
    const deciding = pending();
    if (deciding.length > 0) {
      const stays = deciding.flatMap(({ plan }) => plan.stays);
      nights = await lockStays(tx, propertyId, stays, mode);
      for (const { plan, i } of deciding) {
        const hold = plan.holdId ? holds.get(plan.holdId) : undefined;
        // A hold's units become booked units: nothing is added to the night, so nothing is re-checked.
        const blocked = nights.applyDirect(
          hold ? { unhold: [holdStay(hold)], take: plan.stays } : { take: plan.stays },
          {
            reason: 'reservation.created',
            reservationId: plan.reservation.id,
            holdId: plan.holdId,
            actorId: plan.actor.id,
          },
        );
        if (blocked.length > 0)
          outcomes[i] = { kind: 'refused', error: new InventoryUnavailableError(blocked) };
      }
    }

    const accepted = pending();
    const views = accepted.map(({ plan }) => viewOf(plan));
    accepted.forEach(({ i }, n) => {
      outcomes[i] = { kind: 'created', view: views[n]! };
    });
    const forgottenKeys = keyed
      .filter(({ plan, i }) => claimed.has(keyOf(plan)!) && outcomes[i]!.kind === 'refused')
      .map(({ plan }) => ({ userId: plan.actor.id, key: plan.idempotency!.key }));
    await repo.insertBookings(tx, {
      guests: accepted.map(({ plan }) => plan.guest),
      reservations: accepted.map(({ plan }) => plan.reservation),
      rooms: accepted.flatMap(({ plan }) => plan.rooms),
      audits: accepted.map(({ plan }, n) => ({
        property_id: plan.propertyId,
        actor_id: plan.actor.id,
        actor_role: auditRole(plan.actor),
        action: 'reservation.created',
        entity_type: 'reservation',
        entity_id: plan.reservation.id,
        diff: fieldDiff(null, auditFields(views[n]!)),
        request_id: plan.requestId,
      })),
      responses: accepted.flatMap(({ plan }, n) =>
        plan.idempotency
          ? [{ userId: plan.actor.id, key: plan.idempotency.key, status: 201, body: views[n] }]
          : [],
      ),
      forgottenKeys,
    });
    if (nights) {
      const created = views.map((view) =>
        buildEnvelope('pms.reservation.created', propertyId, { reservation: view, change: 'created' }),
      );
      await writeLockedNights(tx, nights, 'reservation.created', created);
    }
    return outcomes.map((outcome) => outcome!);
  });
}

/** Rooms of a reservation as units per room type over its nights. */
export function staysOf(
  rooms: Array<{ room_type_id: string }>,
  checkIn: string,
  checkOut: string,
): StayUnits[] {
  const units = new Map<string, number>();
  for (const room of rooms) units.set(room.room_type_id, (units.get(room.room_type_id) ?? 0) + 1);
  return [...units].map(([roomTypeId, count]) => ({ roomTypeId, checkIn, checkOut, units: count }));
}

/** The fields of a reservation an audit row records. */
export function auditFields(view: ReservationView): Record<string, unknown> {
  return {
    confirmation_code: view.confirmation_code,
    status: view.status,
    check_in: view.check_in,
    check_out: view.check_out,
    total_amount: view.total_amount,
    currency: view.currency,
    guest_id: view.guest?.id ?? null,
    hold_id: view.hold_id,
    rooms: view.rooms.map((room) => ({
      room_type_id: room.room_type_id,
      rate_plan_id: room.rate_plan_id,
      room_id: room.room_id,
      amount: room.amount,
      ...(room.complimentary && { complimentary: true }),
    })),
    ...(view.fee && { fee: view.fee }),
  };
}

/**
 * Books plans (typically a batch that arrived together). Plans of different properties, or that
 * reuse one idempotency key, go in separate transactions; if a shared transaction fails for an
 * unexpected reason, each plan is retried alone so one bad plan cannot sink the others.
 */
export async function executeBookings(
  db: Db,
  lock: LockSettings,
  plans: BookingPlan[],
): Promise<BookingOutcome[]> {
  const outcomes: BookingOutcome[] = new Array(plans.length);
  let rest = plans.map((plan, i) => ({ plan, i }));
  while (rest.length > 0) {
    const propertyId = rest[0]!.plan.propertyId;
    const keys = new Set<string>();
    const group: typeof rest = [];
    const later: typeof rest = [];
    for (const entry of rest) {
      const key = keyOf(entry.plan);
      if (entry.plan.propertyId !== propertyId || (key !== null && keys.has(key))) later.push(entry);
      else {
        if (key !== null) keys.add(key);
        group.push(entry);
      }
    }
    let results: BookingOutcome[];
    try {
      results = await bookTogether(
        db,
        lock,
        group.map((entry) => entry.plan),
      );
    } catch (error) {
      if (group.length === 1 || error instanceof DomainError) {
        results = group.map(() => ({ kind: 'refused', error: error as Error }));
      } else {
        results = [];
        for (const entry of group) {
          results.push(
            await bookTogether(db, lock, [entry.plan]).then(
              ([outcome]) => outcome!,
              (alone: unknown) => ({ kind: 'refused' as const, error: alone as Error }),
            ),
          );
        }
      }
    }
    group.forEach((entry, n) => {
      outcomes[entry.i] = results[n]!;
    });
    rest = later;
  }
  return outcomes;
}
