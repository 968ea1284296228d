import { ConflictError, NotFoundError, ValidationError } from '../../app/errors.ts';
import type { Db, Tx } from '../../db/database.ts';
import { type RequestContext, recordAudit } from '../audit/audit.repository.ts';
import { type Actor, assertCanAdminProperty, assertCanSeeProperty } from '../auth/auth.context.ts';
import { buildEnvelope, type CloudEvent } from '../events/outbox.ts';
import { assertRange, nightsOf } from '../inventory/inventory.dates.ts';
import {
  inInventoryTransaction,
  type LockMode,
  type LockSettings,
  lockStays,
  writeLockedNights,
} from '../inventory/inventory.locking.ts';
import * as inventoryRepo from '../inventory/inventory.repository.ts';
import { MAX_RANGE_NIGHTS } from '../inventory/inventory.service.ts';
import * as repo from './property.repository.ts';
import * as rooms from './room.repository.ts';
import { roomView, toOutOfOrderView } from './room.service.ts';

type WriteContext = RequestContext & { actor: Actor };

const EXCLUSION_VIOLATION = '23P01';

/**
 * Moves one room's worth of out_of_order_units on the nights [start, end) of a room type: +1 when
 * the room goes out of order, -1 when it comes back. The nights are locked in key order and
 * written with their ledger rows and a `pms.inventory.updated` event, like every inventory change;
 * a night that would then hold more booked and held units than it can sell refuses the whole
 * change (INVENTORY_CONFLICT), so the calendar's CHECK is never the one to say no.
 */
async function moveOutOfOrderUnits(
  tx: Tx,
  mode: LockMode,
  input: { propertyId: string; roomTypeId: string; start: string; end: string; delta: 1 | -1 },
  ref: { reason: string; actorId: string },
  events: CloudEvent[],
): Promise<void> {
  const stay = [{ roomTypeId: input.roomTypeId, checkIn: input.start, checkOut: input.end, units: 0 }];
  // A block counts on every night it covers: nights not loaded yet are loaded first, so none is missed.
  if (input.delta > 0) {
    await inventoryRepo.createMissingNights(
      tx,
      input.propertyId,
      [{ roomTypeId: input.roomTypeId, start: input.start, end: input.end }],
      ref.actorId,
    );
  }
  const nights = await lockStays(tx, input.propertyId, stay, mode);
  for (const date of nightsOf(input.start, input.end)) {
    const night = nights.get(input.roomTypeId, date);
    if (!night) continue;
    nights.adjust(input.roomTypeId, [date], { outOfOrderUnits: night.out_of_order_units + input.delta }, ref);
  }
  await writeLockedNights(tx, nights, ref.reason, events);
}

/**
 * Rooms out of order for a range of nights, counted in the calendar's out_of_order_units of their
 * room type (docs/inventory.md, "Out-of-order rooms"). Administrators put rooms out of order and
 * return them; every user of the property sees the blocks.
 */
export function createOutOfOrder(db: Db, lock: LockSettings) {
  return {
    async list(actor: Actor, propertyId: string, roomId: string) {
      assertCanSeeProperty(actor, propertyId);
      if (!(await repo.findRoom(db, propertyId, roomId))) throw new NotFoundError('Room', roomId);
      return { results: (await rooms.listOutOfOrder(db, roomId)).map(toOutOfOrderView) };
    },

    /**
     * Takes a room out of order for [start_date, end_date). Refused when another stay has the room
     * on one of those nights (ROOM_UNAVAILABLE: move it first), when the room is out of order on one
     * already (ROOM_UNAVAILABLE), or when a night would be oversold (INVENTORY_CONFLICT).
     */
    async create(
      ctx: WriteContext,
      propertyId: string,
      roomId: string,
      input: { start_date: string; end_date: string; reason?: string | null },
    ) {
      assertCanAdminProperty(ctx.actor, propertyId);
      assertRange(input.start_date, input.end_date, MAX_RANGE_NIGHTS, {
        start: '/body/start_date',
        end: '/body/end_date',
      });
      return inInventoryTransaction(db, lock, async (tx, mode) => {
        const room = await repo.lockRoom(tx, propertyId, roomId, 'update');
        if (!room) throw new NotFoundError('Room', roomId);
        const today = await rooms.businessDate(tx, propertyId);
        if (input.start_date < today!) {
          throw new ValidationError(`start_date is before the hotel's business date ${today}.`, [
            { pointer: '/body/start_date', message: `must not be before the business date ${today}` },
          ]);
        }
        const [stay] = await rooms.holdingStaysOfRooms(tx, {
          roomIds: [roomId],
          start: input.start_date,
          end: input.end_date,
        });
        if (stay) {
          throw new ConflictError(
            `Room ${room.number} is assigned to reservation ${stay.confirmation_code} (${stay.check_in} to ` +
              `${stay.check_out}); assign that stay another room before putting this one out of order.`,
            'ROOM_UNAVAILABLE',
          );
        }
        const [other] = await rooms.overlappingOutOfOrder(tx, [roomId], input.start_date, input.end_date);
        if (other) {
          throw new ConflictError(
            `Room ${room.number} is already out of order from ${other.start_date} to ${other.end_date}.`,
            'ROOM_UNAVAILABLE',
          );
        }
        const block = await rooms
          .insertOutOfOrder(tx, {
            property_id: propertyId,
            room_id: roomId,
            room_type_id: room.room_type_id,
            start_date: input.start_date,
            end_date: input.end_date,
            reason: input.reason?.trim() || null,
            created_by: ctx.actor.id,
          })
          .catch((error: { code?: string }) => {
            // The row lock above serialises blocks of one room; the constraint is the last word.
            if (error?.code === EXCLUSION_VIOLATION) {
              throw new ConflictError(
                `Room ${room.number} is already out of order on some of those nights.`,
                'ROOM_UNAVAILABLE',
              );
            }
            throw error;
          });
        await recordAudit(tx, ctx, {
          action: 'room.out_of_order',
          entityType: 'room',
          entityId: roomId,
          propertyId,
          diff: {
            block_id: block.id,
            start_date: block.start_date,
            end_date: block.end_date,
            reason: block.reason,
          },
        });
        const event = buildEnvelope('pms.room.updated', propertyId, {
          change: 'out_of_order',
          room: await roomView(tx, propertyId, roomId),
          out_of_order: toOutOfOrderView(block),
        });
        await moveOutOfOrderUnits(
          tx,
          mode,
          {
            propertyId,
            roomTypeId: block.room_type_id,
            start: block.start_date,
            end: block.end_date,
            delta: 1,
          },
          { reason: 'room.out_of_order', actorId: ctx.actor.id },
          [event],
        );
        return toOutOfOrderView(block);
      });
    },

    /**
     * Returns a room to service from `from_date` (default: the business date): the block ends
     * there and its later nights are given back to the calendar. Returning a block that has
     * nothing left to give back changes nothing.
     */
    async returnToService(
      ctx: WriteContext,
      propertyId: string,
      roomId: string,
      blockId: string,
      input: { from_date?: string },
    ) {
      assertCanAdminProperty(ctx.actor, propertyId);
      return inInventoryTransaction(db, lock, async (tx, mode) => {
        const room = await repo.lockRoom(tx, propertyId, roomId, 'update');
        if (!room) throw new NotFoundError('Room', roomId);
        const block = await rooms.lockOutOfOrder(tx, roomId, blockId);
        if (!block) throw new NotFoundError('Out-of-order block', blockId);
        const today = (await rooms.businessDate(tx, propertyId))!;
        const from = input.from_date ?? today;
        if (from < today) {
          throw new ValidationError(`from_date is before the hotel's business date ${today}.`, [
            { pointer: '/body/from_date', message: `must not be before the business date ${today}` },
          ]);
        }
        const end = from < block.start_date ? block.start_date : from;
        if (end >= block.end_date) return toOutOfOrderView(block);
        const ended = await rooms.endOutOfOrder(tx, blockId, end, ctx.actor.id);
        await recordAudit(tx, ctx, {
          action: 'room.returned_to_service',
          entityType: 'room',
          entityId: roomId,
          propertyId,
          diff: { block_id: blockId, end_date: [block.end_date, end] },
        });
        const event = buildEnvelope('pms.room.updated', propertyId, {
          change: 'returned_to_service',
          room: await roomView(tx, propertyId, roomId),
          out_of_order: toOutOfOrderView(ended),
        });
        await moveOutOfOrderUnits(
          tx,
          mode,
          { propertyId, roomTypeId: block.room_type_id, start: end, end: block.end_date, delta: -1 },
          { reason: 'room.returned_to_service', actorId: ctx.actor.id },
          [event],
        );
        return toOutOfOrderView(ended);
      });
    },
  };
}
