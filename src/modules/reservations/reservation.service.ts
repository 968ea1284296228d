import { randomInt } from 'node:crypto';
import { NotFoundError, ValidationError } from '../../app/errors.ts';
import { newId } from '../../app/ids.ts';
import { decodeCursor, encodeCursor } from '../../app/schemas.ts';
import type { Db } from '../../db/database.ts';
import type { ReservationStatus } from '../../db/schema.ts';
import type { RequestContext } from '../audit/audit.repository.ts';
import { type Actor, assertCanSeeProperty, canSeeProperty, propertyScope } from '../auth/auth.context.ts';
import { assertRange } from '../inventory/inventory.dates.ts';
import type { LockSettings } from '../inventory/inventory.locking.ts';
import * as inventoryRepo from '../inventory/inventory.repository.ts';
import { MAX_STAY_NIGHTS } from '../inventory/inventory.service.ts';
import { readSalesState } from '../properties/business-date.repository.ts';
import { assertSelling } from '../properties/business-date.ts';
import { KeyedBatcher } from './reservation.batcher.ts';
import { type BookingOutcome, type BookingPlan, executeBookings, staysOf } from './reservation.booking.ts';
import { IdempotencyKeyReusedError } from './reservation.errors.ts';
import { assertComplimentaryAllowed, assertRoomsFit } from './reservation.front-desk.ts';
import { requestHash } from './reservation.idempotency.ts';
import { createReservationChanges } from './reservation.lifecycle.ts';
import { priceStay, type RoomRequest } from './reservation.pricing.ts';
import { loadView, loadVisible } from './reservation.read.ts';
import * as repo from './reservation.repository.ts';
import { createStayChanges } from './reservation.stay.ts';
import { type ReservationView, toReservationView } from './reservation.view.ts';

type WriteContext = RequestContext & { actor: Actor };

export interface GuestInput {
  first_name?: string | null;
  last_name?: string | null;
  full_name?: string | null;
  email?: string | null;
  phone?: string | null;
}

export interface CreateReservationInput {
  property_id: string;
  check_in: string;
  check_out: string;
  guest: GuestInput;
  rooms: RoomRequest[];
  status?: 'confirmed' | 'tentative';
  notes?: string | null;
  hold_id?: string;
}

export interface ReservationListQuery {
  limit: number;
  cursor?: string;
  property_id?: string;
  status?: ReservationStatus[];
  arrival_from?: string;
  arrival_to?: string;
  departure_from?: string;
  departure_to?: string;
  guest?: string;
  source?: string;
}

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** 10 characters from an alphabet without look-alikes (0/O, 1/I): about 2^50 codes. */
export function newConfirmationCode(): string {
  let code = '';
  for (let i = 0; i < 10; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

function guestRow(id: string, propertyId: string, guest: GuestInput): repo.NewGuest {
  const first = guest.first_name?.trim() || null;
  const last = guest.last_name?.trim() || null;
  const full = guest.full_name?.trim() || [first, last].filter(Boolean).join(' ') || null;
  if (!full) {
    throw new ValidationError('The guest needs a name.', [
      { pointer: '/body/guest/full_name', message: 'give full_name, or first_name and/or last_name' },
    ]);
  }
  return {
    id,
    property_id: propertyId,
    first_name: first,
    last_name: last,
    full_name: full,
    email: guest.email?.trim() || null,
    phone: guest.phone?.trim() || null,
  };
}

export interface CreateResult {
  status: number;
  body: unknown;
  replayed: boolean;
}

/**
 * `options.maxBatch`: most bookings of one property decided together (default 128); 1 turns
 * batching off, so every booking is its own transaction.
 */
export type { LifecycleAction, ModifyReservationInput } from './reservation.lifecycle.ts';

/**
 * Use cases of reservations: booking (batched per property), reading, and the changes of
 * reservation.lifecycle.ts.
 */
export function createReservationService(db: Db, lock: LockSettings, options: { maxBatch?: number } = {}) {
  const run = (plans: BookingPlan[]) => executeBookings(db, lock, plans);
  const maxBatch = options.maxBatch ?? 128;
  // Bookings of one property are decided together: a hot room type's bookings share one lock
  // wait instead of queueing one by one, and spread-out bookings share their round trips. Two
  // batches per property may run at once, so a slow batch does not hold up the next.
  const batcher = new KeyedBatcher<BookingPlan, BookingOutcome>(run, maxBatch, 2);
  const book = (plan: BookingPlan): Promise<BookingOutcome> =>
    maxBatch === 1 ? run([plan]).then(([outcome]) => outcome!) : batcher.submit(plan.propertyId, plan);

  const changes = createReservationChanges(db, lock);

  return {
    ...changes,
    ...createStayChanges(db, lock),

    async create(
      ctx: WriteContext,
      input: CreateReservationInput,
      idempotencyKey?: string,
    ): Promise<CreateResult> {
      assertRange(input.check_in, input.check_out, MAX_STAY_NIGHTS, {
        start: '/body/check_in',
        end: '/body/check_out',
      });
      assertCanSeeProperty(ctx.actor, input.property_id);
      const hash = idempotencyKey ? requestHash('reservation.create', input) : null;
      if (idempotencyKey) {
        const [stored] = await repo.findIdempotencyKeys(db, [{ userId: ctx.actor.id, key: idempotencyKey }]);
        if (stored && stored.request_hash !== hash) throw new IdempotencyKeyReusedError();
        if (stored && stored.response_status !== null) {
          return { status: stored.response_status, body: stored.response_body, replayed: true };
        }
      }
      if (input.hold_id) {
        const hold = await inventoryRepo.findHold(db, input.hold_id);
        if (!hold || hold.property_id !== input.property_id) throw new NotFoundError('Hold', input.hold_id);
      }
      // A first answer without locks; the booking transaction decides again under the property's
      // lock. The room types' look-up carries their property's state, which saves a round trip.
      const roomTypes = await inventoryRepo.findRoomTypes(db, [
        ...new Set(input.rooms.map((room) => room.room_type_id)),
      ]);
      const own = roomTypes.find((roomType) => roomType.property_id === input.property_id);
      const property = own ? { ...own, id: own.property_id } : await readSalesState(db, input.property_id);
      if (!property) throw new NotFoundError('Property', input.property_id);
      assertSelling(property, input.check_in);
      assertComplimentaryAllowed(ctx.actor, input.rooms);
      // Another property's room type is refused as missing later; its size is none of this caller's business.
      assertRoomsFit(
        input.rooms,
        roomTypes.filter((roomType) => roomType.property_id === input.property_id),
      );
      const priced = await priceStay(db, {
        propertyId: input.property_id,
        checkIn: input.check_in,
        checkOut: input.check_out,
        rooms: input.rooms,
        defaultRatePlanId: property.default_rate_plan_id,
      });

      const reservationId = crypto.randomUUID();
      const guest = guestRow(crypto.randomUUID(), input.property_id, input.guest);
      const plan: BookingPlan = {
        actor: ctx.actor,
        requestId: ctx.requestId,
        idempotency: idempotencyKey ? { key: idempotencyKey, hash: hash! } : null,
        propertyId: input.property_id,
        holdId: input.hold_id ?? null,
        guest,
        reservation: {
          id: reservationId,
          property_id: input.property_id,
          confirmation_code: newConfirmationCode(),
          status: input.status ?? 'confirmed',
          check_in: input.check_in,
          check_out: input.check_out,
          guest_id: guest.id,
          total_amount: priced.total,
          // Without rate plans, the batch fills in the property's currency when it checks the room types.
          currency: priced.currency ?? '',
          notes: input.notes ?? null,
          hold_id: input.hold_id ?? null,
          created_by: ctx.actor.id,
          created_at: new Date(),
        },
        rooms: priced.rooms.map((room) => ({
          id: newId(),
          reservation_id: reservationId,
          property_id: input.property_id,
          room_type_id: room.roomTypeId,
          rate_plan_id: room.ratePlanId,
          room_id: null,
          adults: room.adults,
          children: room.children,
          nightly_prices: room.nightlyPrices,
          amount: room.amount,
          complimentary: room.complimentary,
          cancellation_policy: room.cancellationPolicy,
        })),
        stays: staysOf(input.rooms, input.check_in, input.check_out),
      };
      const outcome = await book(plan);
      if (outcome.kind === 'refused') throw outcome.error;
      if (outcome.kind === 'replayed') return { status: outcome.status, body: outcome.body, replayed: true };
      return { status: 201, body: outcome.view, replayed: false };
    },

    async get(actor: Actor, id: string): Promise<ReservationView> {
      return loadView(db, await loadVisible(db, actor, id));
    },

    async getByCode(actor: Actor, code: string): Promise<ReservationView> {
      const row = await repo.findReservationByCode(db, code.toUpperCase());
      if (!row || !canSeeProperty(actor, row.property_id)) throw new NotFoundError('Reservation', code);
      return loadView(db, row);
    },

    async list(actor: Actor, query: ReservationListQuery) {
      const after = decodeCursor(query.cursor);
      const rows = await repo.listReservations(db, {
        propertyIds: propertyScope(actor),
        propertyId: query.property_id,
        statuses: query.status,
        arrivalFrom: query.arrival_from,
        arrivalTo: query.arrival_to,
        departureFrom: query.departure_from,
        departureTo: query.departure_to,
        guest: query.guest,
        source: query.source,
        after: after ? { createdAt: String(after.sortKey), id: after.id } : undefined,
        limit: query.limit,
      });
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      const [guests, rooms] = await Promise.all([
        repo.findGuests(
          db,
          page.flatMap((row) => (row.guest_id ? [row.guest_id] : [])),
        ),
        repo.findRooms(
          db,
          page.map((row) => row.id),
        ),
      ]);
      return {
        results: page.map(({ cursor_ts: _, ...row }) =>
          toReservationView(
            row,
            guests.find((guest) => guest.id === row.guest_id) ?? null,
            rooms.filter((room) => room.reservation_id === row.id),
          ),
        ),
        next_cursor: rows.length > query.limit && last ? encodeCursor(last.cursor_ts, last.id) : null,
      };
    },
  };
}

export type ReservationService = ReturnType<typeof createReservationService>;

/** Removes remembered responses whose 24 hours are over. */
export function purgeExpiredIdempotencyKeys(db: Db, asOf = new Date()): Promise<number> {
  return repo.purgeExpiredIdempotencyKeys(db, asOf);
}
