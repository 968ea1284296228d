import { NotFoundError, ValidationError } from '../../app/errors.ts';
import { newId } from '../../app/ids.ts';
import type { Db, Tx } from '../../db/database.ts';
import type { ReservationStatus } from '../../db/schema.ts';
import { type RequestContext, recordAudit } from '../audit/audit.repository.ts';
import type { Actor } from '../auth/auth.context.ts';
import { buildEnvelope, type EventType } from '../events/outbox.ts';
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
import { lockSalesState } from '../properties/business-date.repository.ts';
import { assertSelling } from '../properties/business-date.ts';
import { auditFields, staysOf } from './reservation.booking.ts';
import {
  ExternalReservationError,
  InvalidStateTransitionError,
  RoomUnavailableError,
} from './reservation.errors.ts';
import { assertComplimentaryAllowed, assertRoomsFit, frontDeskChanges } from './reservation.front-desk.ts';
import { priceStay, type RoomRequest } from './reservation.pricing.ts';
import { loadView, loadVisible } from './reservation.read.ts';
import * as repo from './reservation.repository.ts';
import * as roomRepo from './reservation.rooms.repository.ts';
import {
  type CheckInAssignment,
  hotelToday,
  keepFittingRooms,
  markDirty,
  roomClash,
  roomEvents,
  roomEventsOfTransition,
  roomsBeforeTransition,
  whyRoomUnfit,
} from './reservation.rooms.ts';
import { type ReservationView, toReservationView } from './reservation.view.ts';

type WriteContext = RequestContext & { actor: Actor };

export interface ModifyReservationInput {
  check_in?: string;
  check_out?: string;
  rooms?: RoomRequest[];
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

/** Changes to existing reservations: lifecycle transitions, date/room swaps, room assignment. */
export function createReservationChanges(db: Db, lock: LockSettings) {
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

  /** The audit row of a change to an existing reservation, in the caller's transaction. */
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
    /**
     * A lifecycle action. Cancel is idempotent (a cancelled reservation stays as it is); every
     * other action from a state that does not allow it is a 409 naming the current state. Cancel
     * and no-show release the nights in the same transaction.
     */
    async transition(
      ctx: WriteContext,
      id: string,
      action: LifecycleAction,
      options: { assign?: CheckInAssignment } = {},
    ): Promise<ReservationView> {
      await loadVisible(db, ctx.actor, id);
      const rule = TRANSITIONS[action];
      return inInventoryTransaction(db, lock, async (tx, mode) => {
        const row = await repo.lockReservation(tx, id);
        if (!row) throw new NotFoundError('Reservation', id);
        if (action === 'cancel' && row.status === 'cancelled') return loadView(tx, row);
        if (!rule.from.includes(row.status)) throw new InvalidStateTransitionError(id, row.status, rule.verb);
        if (rule.releases && row.source !== 'direct') throw new ExternalReservationError(id, row.source);
        const before = await loadView(tx, row);
        const { fee, changes } = await frontDeskChanges(tx, row, action, before.rooms);
        const reassigned = await roomsBeforeTransition(tx, row, action, before.rooms, options.assign);
        const updated = await repo.updateReservation(tx, id, {
          status: rule.to,
          ...(rule.to === 'cancelled' && { cancelled_at: new Date() }),
          ...changes,
        });
        const rooms = reassigned ? (await loadView(tx, updated)).rooms : before.rooms;
        const after = { ...before, ...toReservationView(updated, before.guest, []), rooms };
        await recordChange(tx, ctx, `reservation.${rule.to}`, before, after);
        const event = buildEnvelope(rule.event, after.property_id, {
          reservation: after,
          change: rule.to,
          previous_status: row.status,
          ...(fee && { fee: after.fee }),
        });
        if (!rule.releases) {
          await inventoryRepo.insertEvents(tx, [
            event,
            ...(await roomEventsOfTransition(tx, row, action, rooms)),
          ]);
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
      const current = await loadVisible(db, ctx.actor, id);
      const checkIn = input.check_in ?? current.check_in;
      const checkOut = input.check_out ?? current.check_out;
      assertRange(checkIn, checkOut, MAX_STAY_NIGHTS, { start: '/body/check_in', end: '/body/check_out' });
      if (input.rooms) assertRoomsFit(input.rooms, await assertRoomTypes(current.property_id, input.rooms));

      return inInventoryTransaction(db, lock, async (tx, mode) => {
        // The property before the reservation, as the night audit takes them: no sale of a closed day.
        const property = await lockSalesState(tx, current.property_id);
        if (!property) throw new NotFoundError('Property', current.property_id);
        assertSelling(property, checkIn);
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
            complimentary: room.complimentary,
          }));
        assertComplimentaryAllowed(ctx.actor, requests);
        const [roomType] = await inventoryRepo.findRoomTypes(tx, [requests[0]!.room_type_id]);
        const priced = await priceStay(tx, {
          propertyId: row.property_id,
          checkIn,
          checkOut,
          rooms: requests,
          defaultRatePlanId: property.default_rate_plan_id,
        });
        // New dates keep a room only where it still fits them (the constraint would refuse the rest).
        await keepFittingRooms(tx, row, before.rooms, checkIn, checkOut);
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
              id: newId(),
              reservation_id: id,
              property_id: row.property_id,
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
          );
        } else {
          for (const [n, room] of before.rooms.entries()) {
            const price = priced.rooms[n]!;
            await repo.repriceRoom(tx, room.id, {
              nightly_prices: price.nightlyPrices,
              amount: price.amount,
              rate_plan_id: price.ratePlanId,
              cancellation_policy: price.cancellationPolicy,
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
      await loadVisible(db, ctx.actor, id);
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
        const previousRoom = target.room_id;
        if (input.room_id !== null) {
          // The room row lock orders this with every other writer of the room's stays.
          const [room] = await roomRepo.lockRooms(tx, [input.room_id]);
          if (!room || room.property_id !== row.property_id) throw new NotFoundError('Room', input.room_id);
          if (room.room_type_id !== target.room_type_id) {
            throw new RoomUnavailableError(`Room ${room.number} is not of the booked room type.`);
          }
          if (before.rooms.some((other) => other.id !== target.id && other.room_id === input.room_id)) {
            throw new RoomUnavailableError(`Room ${room.number} is already assigned to this reservation.`);
          }
          const why = await whyRoomUnfit(tx, {
            roomId: room.id,
            number: room.number,
            reservationId: id,
            status: row.status,
            checkIn: row.check_in,
            checkOut: row.check_out,
            businessDate: await hotelToday(tx, row.property_id),
          });
          if (why) throw new RoomUnavailableError(why);
        }
        await repo.setRoomAssignment(tx, target.id, input.room_id).catch(roomClash);
        // A guest in the house leaves the room they move out of to be cleaned.
        const vacated = row.status === 'checked_in' && previousRoom && previousRoom !== input.room_id;
        if (vacated) await markDirty(tx, [previousRoom]);
        const updated = await repo.updateReservation(tx, id, {});
        const after = toReservationView(updated, before.guest, await repo.findRooms(tx, [id]));
        await recordChange(tx, ctx, 'reservation.room_assigned', before, after);
        const moved = [previousRoom, input.room_id].flatMap((room) =>
          room && row.status === 'checked_in' ? [room] : [],
        );
        await inventoryRepo.insertEvents(tx, [
          buildEnvelope('pms.reservation.modified', row.property_id, {
            reservation: after,
            change: 'room_assigned',
            previous: auditFields(before),
          }),
          ...(await roomEvents(tx, row.property_id, moved, 'room_move', { reservation_id: id })),
        ]);
        return after;
      });
    },
  };
}
