import { randomInt } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { NotFoundError, ValidationError } from '../../app/errors.ts';
import { decodeCursor, encodeCursor } from '../../app/schemas.ts';
import type { Db, Tx } from '../../db/database.ts';
import type { ReservationStatus } from '../../db/schema.ts';
import { type RequestContext, recordAudit } from '../audit/audit.repository.ts';
import { type Actor, assertCanSeeProperty, canSeeProperty, propertyScope } from '../auth/auth.context.ts';
import { buildEnvelope, type EventType } from '../events/outbox.ts';
import type { StayUnits } from '../inventory/inventory.contract.ts';
import { assertRange } from '../inventory/inventory.dates.ts';
import { InventoryUnavailableError } from '../inventory/inventory.errors.ts';
import {
  inInventoryTransaction,
  type LockSettings,
  lockStays,
  writeLockedNights,
} from '../inventory/inventory.locking.ts';
import * as inventoryRepo from '../inventory/inventory.repository.ts';
import { MAX_STAY_NIGHTS } from '../inventory/inventory.service.ts';
import { KeyedBatcher } from './reservation.batcher.ts';
import {
  auditFields,
  type BookingOutcome,
  type BookingPlan,
  executeBookings,
} from './reservation.booking.ts';
import {
  ExternalReservationError,
  IdempotencyKeyReusedError,
  InvalidStateTransitionError,
  RoomUnavailableError,
} from './reservation.errors.ts';
import { requestHash } from './reservation.idempotency.ts';
import { priceStay, type RoomRequest } from './reservation.pricing.ts';
import * as repo from './reservation.repository.ts';
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

export interface ModifyReservationInput {
  check_in?: string;
  check_out?: string;
  rooms?: RoomRequest[];
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

export type LifecycleAction = 'confirm' | 'check-in' | 'check-out' | 'no-show' | 'cancel';

interface Transition {
  from: ReservationStatus[];
  to: ReservationStatus;
  /** The reservation stops holding its nights. */
  releases: boolean;
  verb: string;
  event: EventType;
}

/** The reservation state machine (DESIGN.md §4). checked_out still holds its nights (they were used). */
const TRANSITIONS: Record<LifecycleAction, Transition> = {
  confirm: {
    from: ['tentative'],
    to: 'confirmed',
    releases: false,
    verb: 'be confirmed',
    event: 'pms.reservation.modified',
  },
  'check-in': {
    from: ['tentative', 'confirmed'],
    to: 'checked_in',
    releases: false,
    verb: 'check in',
    event: 'pms.reservation.modified',
  },
  'check-out': {
    from: ['checked_in'],
    to: 'checked_out',
    releases: false,
    verb: 'check out',
    event: 'pms.reservation.modified',
  },
  'no-show': {
    from: ['tentative', 'confirmed'],
    to: 'no_show',
    releases: true,
    verb: 'be marked a no-show',
    event: 'pms.reservation.modified',
  },
  cancel: {
    from: ['tentative', 'confirmed'],
    to: 'cancelled',
    releases: true,
    verb: 'be cancelled',
    event: 'pms.reservation.cancelled',
  },
};

const MODIFIABLE: ReservationStatus[] = ['tentative', 'confirmed'];
const ASSIGNABLE: ReservationStatus[] = ['tentative', 'confirmed', 'checked_in'];

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** 10 characters from an alphabet without look-alikes (0/O, 1/I): about 2^50 codes. */
export function newConfirmationCode(): string {
  let code = '';
  for (let i = 0; i < 10; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
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
export function createReservationService(db: Db, lock: LockSettings, options: { maxBatch?: number } = {}) {
  const run = (plans: BookingPlan[]) => executeBookings(db, lock, plans);
  const maxBatch = options.maxBatch ?? 128;
  // Bookings of one property are decided together: a hot room type's bookings share one lock
  // wait instead of queueing one by one, and spread-out bookings share their round trips. Two
  // batches per property may run at once, so a slow batch does not hold up the next.
  const batcher = new KeyedBatcher<BookingPlan, BookingOutcome>(run, maxBatch, 2);
  const book = (plan: BookingPlan): Promise<BookingOutcome> =>
    maxBatch === 1 ? run([plan]).then(([outcome]) => outcome!) : batcher.submit(plan.propertyId, plan);

  async function loadView(source: Db | Tx, row: repo.ReservationRow): Promise<ReservationView> {
    const [guests, rooms] = await Promise.all([
      repo.findGuests(source, row.guest_id ? [row.guest_id] : []),
      repo.findRooms(source, [row.id]),
    ]);
    return toReservationView(row, guests[0] ?? null, rooms);
  }

  async function loadVisible(actor: Actor, id: string): Promise<repo.ReservationRow> {
    const row = await repo.findReservation(db, id);
    if (!row || !canSeeProperty(actor, row.property_id)) throw new NotFoundError('Reservation', id);
    return row;
  }

  async function assertRoomTypes(propertyId: string, rooms: RoomRequest[]) {
    const ids = [...new Set(rooms.map((room) => room.room_type_id))];
    const found = await inventoryRepo.findRoomTypes(db, ids);
    for (const id of ids) {
      if (!found.some((roomType) => roomType.id === id && roomType.property_id === propertyId)) {
        throw new NotFoundError('Room type', id);
      }
    }
    return found;
  }

  /** Audit row and event of a change to an existing reservation, in the caller's transaction. */
  async function recordChange(
    tx: Tx,
    ctx: WriteContext,
    action: string,
    before: ReservationView,
    after: ReservationView,
  ) {
    await recordAudit(tx, ctx, {
      action,
      entityType: 'reservation',
      entityId: after.id,
      propertyId: after.property_id,
      before: auditFields(before),
      after: auditFields(after),
    });
  }

  return {
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
      const priced = await priceStay(db, {
        propertyId: input.property_id,
        checkIn: input.check_in,
        checkOut: input.check_out,
        rooms: input.rooms,
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
          id: uuidv7(),
          reservation_id: reservationId,
          property_id: input.property_id,
          room_type_id: room.roomTypeId,
          rate_plan_id: room.ratePlanId,
          room_id: null,
          adults: room.adults,
          children: room.children,
          nightly_prices: room.nightlyPrices,
          amount: room.amount,
        })),
        stays: staysOf(input.rooms, input.check_in, input.check_out),
      };
      const outcome = await book(plan);
      if (outcome.kind === 'refused') throw outcome.error;
      if (outcome.kind === 'replayed') return { status: outcome.status, body: outcome.body, replayed: true };
      return { status: 201, body: outcome.view, replayed: false };
    },

    async get(actor: Actor, id: string): Promise<ReservationView> {
      return loadView(db, await loadVisible(actor, id));
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

    /**
     * A lifecycle action. Cancel is idempotent (a cancelled reservation stays as it is); every
     * other action from a state that does not allow it is a 409 naming the current state. Cancel
     * and no-show release the nights in the same transaction.
     */
    async transition(ctx: WriteContext, id: string, action: LifecycleAction): Promise<ReservationView> {
      await loadVisible(ctx.actor, id);
      const rule = TRANSITIONS[action];
      return inInventoryTransaction(db, lock, async (tx, mode) => {
        const row = await repo.lockReservation(tx, id);
        if (!row) throw new NotFoundError('Reservation', id);
        if (action === 'cancel' && row.status === 'cancelled') return loadView(tx, row);
        if (!rule.from.includes(row.status)) throw new InvalidStateTransitionError(id, row.status, rule.verb);
        if (rule.releases && row.source !== 'direct') throw new ExternalReservationError(id, row.source);
        const before = await loadView(tx, row);
        const updated = await repo.updateReservation(tx, id, {
          status: rule.to,
          ...(rule.to === 'cancelled' && { cancelled_at: new Date() }),
        });
        const after = { ...before, ...toReservationView(updated, before.guest, []), rooms: before.rooms };
        await recordChange(tx, ctx, `reservation.${rule.to}`, before, after);
        const event = buildEnvelope(rule.event, after.property_id, {
          reservation: after,
          change: rule.to,
          previous_status: row.status,
        });
        if (!rule.releases) {
          await inventoryRepo.insertEvents(tx, [event]);
          return after;
        }
        const stays = staysOf(before.rooms, row.check_in, row.check_out);
        const nights = await lockStays(tx, row.property_id, stays, mode);
        nights.applyDirect(
          { release: stays },
          { reason: `reservation.${rule.to}`, reservationId: id, actorId: ctx.actor.id },
        );
        await writeLockedNights(tx, nights, `reservation.${rule.to}`, [event]);
        return after;
      });
    },

    /**
     * Changes dates and/or rooms as one atomic swap: the old nights are released and the new ones
     * taken under the same locks, so there is never a moment when both or neither are held. The
     * stay is repriced at today's rates; refused (nothing changes) when a new night is unavailable.
     */
    async modify(ctx: WriteContext, id: string, input: ModifyReservationInput): Promise<ReservationView> {
      if (input.check_in === undefined && input.check_out === undefined && input.rooms === undefined) {
        throw new ValidationError('Give check_in, check_out or rooms to change.');
      }
      const current = await loadVisible(ctx.actor, id);
      const checkIn = input.check_in ?? current.check_in;
      const checkOut = input.check_out ?? current.check_out;
      assertRange(checkIn, checkOut, MAX_STAY_NIGHTS, { start: '/body/check_in', end: '/body/check_out' });
      if (input.rooms) await assertRoomTypes(current.property_id, input.rooms);

      return inInventoryTransaction(db, lock, async (tx, mode) => {
        const row = await repo.lockReservation(tx, id);
        if (!row) throw new NotFoundError('Reservation', id);
        if (!MODIFIABLE.includes(row.status))
          throw new InvalidStateTransitionError(id, row.status, 'be modified');
        if (row.source !== 'direct') throw new ExternalReservationError(id, row.source);
        const before = await loadView(tx, row);
        const requests: RoomRequest[] =
          input.rooms ??
          before.rooms.map((room) => ({
            room_type_id: room.room_type_id,
            rate_plan_id: room.rate_plan_id,
            adults: room.adults,
            children: room.children,
          }));
        const [roomType] = await inventoryRepo.findRoomTypes(tx, [requests[0]!.room_type_id]);
        const priced = await priceStay(tx, {
          propertyId: row.property_id,
          checkIn,
          checkOut,
          rooms: requests,
        });
        const updated = await repo.updateReservation(tx, id, {
          check_in: checkIn,
          check_out: checkOut,
          total_amount: priced.total,
          currency: priced.currency ?? roomType!.currency,
        });
        if (input.rooms) {
          await repo.deleteRooms(tx, id);
          await repo.insertRooms(
            tx,
            priced.rooms.map((room) => ({
              id: uuidv7(),
              reservation_id: id,
              property_id: row.property_id,
              room_type_id: room.roomTypeId,
              rate_plan_id: room.ratePlanId,
              room_id: null,
              adults: room.adults,
              children: room.children,
              nightly_prices: room.nightlyPrices,
              amount: room.amount,
            })),
          );
        } else {
          for (const [n, room] of before.rooms.entries()) {
            const price = priced.rooms[n]!;
            await repo.repriceRoom(tx, room.id, {
              nightly_prices: price.nightlyPrices,
              amount: price.amount,
            });
          }
        }
        const after = toReservationView(updated, before.guest, await repo.findRooms(tx, [id]));
        await recordChange(tx, ctx, 'reservation.modified', before, after);
        const event = buildEnvelope('pms.reservation.modified', row.property_id, {
          reservation: after,
          change: 'modified',
          previous: auditFields(before),
        });
        const oldStays = staysOf(before.rooms, row.check_in, row.check_out);
        const newStays = staysOf(requests, checkIn, checkOut);
        const nights = await lockStays(tx, row.property_id, [...oldStays, ...newStays], mode);
        const blocked = nights.applyDirect(
          { release: oldStays, take: newStays },
          { reason: 'reservation.modified', reservationId: id, actorId: ctx.actor.id },
        );
        if (blocked.length > 0) throw new InventoryUnavailableError(blocked);
        await writeLockedNights(tx, nights, 'reservation.modified', [event]);
        return after;
      });
    },

    /** Assigns (or with null, unassigns) a physical room of the booked room type to one room of a reservation. */
    async assignRoom(
      ctx: WriteContext,
      id: string,
      input: { room_id: string | null; reservation_room_id?: string },
    ): Promise<ReservationView> {
      await loadVisible(ctx.actor, id);
      return db.transaction().execute(async (tx) => {
        const row = await repo.lockReservation(tx, id);
        if (!row) throw new NotFoundError('Reservation', id);
        if (!ASSIGNABLE.includes(row.status)) {
          throw new InvalidStateTransitionError(id, row.status, 'have a room assigned');
        }
        const before = await loadView(tx, row);
        const target = input.reservation_room_id
          ? before.rooms.find((room) => room.id === input.reservation_room_id)
          : before.rooms.length === 1
            ? before.rooms[0]
            : undefined;
        if (!target) {
          if (input.reservation_room_id)
            throw new NotFoundError('Reservation room', input.reservation_room_id);
          throw new ValidationError(
            'The reservation has several rooms: say which with reservation_room_id.',
            [
              {
                pointer: '/body/reservation_room_id',
                message: 'is required when the reservation has several rooms',
              },
            ],
          );
        }
        if (input.room_id !== null) {
          const room = await repo.lockRoom(tx, input.room_id);
          if (!room || room.property_id !== row.property_id) throw new NotFoundError('Room', input.room_id);
          if (room.room_type_id !== target.room_type_id) {
            throw new RoomUnavailableError(`Room ${input.room_id} is not of the booked room type.`);
          }
          if (room.status === 'out_of_order')
            throw new RoomUnavailableError(`Room ${input.room_id} is out of order.`);
          if (before.rooms.some((other) => other.id !== target.id && other.room_id === input.room_id)) {
            throw new RoomUnavailableError(`Room ${input.room_id} is already assigned to this reservation.`);
          }
          const clash = await repo.findOverlappingAssignment(tx, {
            roomId: input.room_id,
            reservationId: id,
            checkIn: row.check_in,
            checkOut: row.check_out,
          });
          if (clash) {
            throw new RoomUnavailableError(
              `Room ${input.room_id} is assigned to reservation ${clash.confirmation_code} on overlapping nights.`,
            );
          }
        }
        await repo.setRoomAssignment(tx, target.id, input.room_id);
        const updated = await repo.updateReservation(tx, id, {});
        const after = toReservationView(updated, before.guest, await repo.findRooms(tx, [id]));
        await recordChange(tx, ctx, 'reservation.room_assigned', before, after);
        await inventoryRepo.insertEvents(tx, [
          buildEnvelope('pms.reservation.modified', row.property_id, {
            reservation: after,
            change: 'room_assigned',
            previous: auditFields(before),
          }),
        ]);
        return after;
      });
    },
  };
}

export type ReservationService = ReturnType<typeof createReservationService>;

/** Removes remembered responses whose 24 hours are over. */
export function purgeExpiredIdempotencyKeys(db: Db, asOf = new Date()): Promise<number> {
  return repo.purgeExpiredIdempotencyKeys(db, asOf);
}
