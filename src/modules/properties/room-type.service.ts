import { DateTime } from 'luxon';
import { ConflictError, NotFoundError, ResourceInUseError } from '../../app/errors.ts';
import { pageOf } from '../../app/schemas.ts';
import type { Db, Tx } from '../../db/database.ts';
import type { RoomType } from '../../db/schema.ts';
import { type RequestContext, recordAudit } from '../audit/audit.repository.ts';
import { type Actor, assertCanAdminProperty, assertCanSeeProperty } from '../auth/auth.context.ts';
import { appendEvent } from '../events/outbox.ts';
import { InventoryConflictError } from './property.errors.ts';
import { keysetAfter } from './property.keyset.ts';
import * as repo from './property.repository.ts';

export type RoomTypeView = {
  id: string;
  property_id: string;
  code: string;
  name: string;
  description: string | null;
  total_units: number;
  max_occupancy: number;
  created_at: string;
  updated_at: string;
};

export function toRoomTypeView(row: RoomType): RoomTypeView {
  return {
    id: row.id,
    property_id: row.property_id,
    code: row.code,
    name: row.name,
    description: row.description,
    total_units: row.total_units,
    max_occupancy: row.max_occupancy,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export interface RoomTypeInput {
  code: string;
  name: string;
  description?: string | null;
  total_units: number;
  max_occupancy?: number;
}

type WriteContext = RequestContext & { actor: Actor };

export const CAPACITY_REASON = 'room_type.capacity_changed';

/** The fewest units a night can have without breaking the calendar's CHECK constraints. */
function minimumTotal(night: repo.CalendarNight): number {
  return Math.max(
    night.out_of_order_units,
    night.booked_units + night.held_units + night.out_of_order_units - night.overbooking_limit,
  );
}

function duplicateCode(error: unknown, code: string | undefined): unknown {
  return repo.violatedUniqueConstraint(error) === 'room_type_property_id_code_key'
    ? new ConflictError(`A room type with code "${code}" already exists in this property.`)
    : error;
}

/**
 * Moves the room type's future nights (from today, hotel-local) to the new capacity in the caller's
 * transaction, or refuses naming the first night whose bookings and holds would no longer fit.
 */
async function applyCapacity(
  tx: Tx,
  ctx: WriteContext,
  roomType: RoomType,
  timezone: string,
  totalUnits: number,
): Promise<number> {
  const today = DateTime.now().setZone(timezone).toISODate()!;
  const nights = await repo.lockNights(tx, roomType.id, today);
  const breaking = nights.find((night) => minimumTotal(night) > totalUnits);
  if (breaking) {
    const lowest = Math.max(...nights.map(minimumTotal));
    throw new InventoryConflictError(
      `Room type "${roomType.code}" cannot go to ${totalUnits} units: on ${breaking.date} ` +
        `${breaking.booked_units} booked and ${breaking.held_units} held units ` +
        `(${breaking.out_of_order_units} out of order, overbooking limit ${breaking.overbooking_limit}) ` +
        `would not fit. Every future night allows at least ${lowest} units.`,
      {
        date: breaking.date,
        room_type_id: roomType.id,
        total_units: totalUnits,
        booked_units: breaking.booked_units,
        held_units: breaking.held_units,
        out_of_order_units: breaking.out_of_order_units,
        overbooking_limit: breaking.overbooking_limit,
        minimum_total_units: lowest,
      },
    );
  }
  const changed = nights.filter((night) => night.total_units !== totalUnits);
  if (changed.length === 0) return 0;
  await repo.setNightsTotal(
    tx,
    roomType.id,
    changed.map((night) => night.date),
    totalUnits,
  );
  await repo.appendLedger(
    tx,
    changed.map((night) => ({
      property_id: roomType.property_id,
      room_type_id: roomType.id,
      date: night.date,
      field: 'total_units' as const,
      delta: totalUnits - night.total_units,
      reason: CAPACITY_REASON,
      actor_id: ctx.actor.id,
    })),
  );
  await appendEvent(tx, 'pms.inventory.updated', roomType.property_id, {
    property_id: roomType.property_id,
    room_type_id: roomType.id,
    reason: CAPACITY_REASON,
    nights: changed.map((night) => ({
      date: night.date,
      total_units: totalUnits,
      booked_units: night.booked_units,
      held_units: night.held_units,
      out_of_order_units: night.out_of_order_units,
      overbooking_limit: night.overbooking_limit,
      available_units: Math.max(
        0,
        totalUnits -
          night.out_of_order_units +
          night.overbooking_limit -
          night.booked_units -
          night.held_units,
      ),
      stop_sell: night.stop_sell,
    })),
  });
  return changed.length;
}

/** Use cases of room types; every one is scoped to a property the actor may see. */
export function createRoomTypeService(db: Db) {
  async function assertPropertyExists(propertyId: string) {
    if (!(await repo.findProperty(db, propertyId))) throw new NotFoundError('Property', propertyId);
  }

  return {
    async list(actor: Actor, propertyId: string, query: { limit: number; cursor?: string; search?: string }) {
      assertCanSeeProperty(actor, propertyId);
      await assertPropertyExists(propertyId);
      const rows = await repo.listRoomTypes(db, propertyId, {
        search: query.search,
        after: keysetAfter(query.cursor),
        limit: query.limit,
      });
      const page = pageOf(rows, query.limit, (r) => r.code);
      return { results: page.results.map(toRoomTypeView), next_cursor: page.next_cursor };
    },

    async get(actor: Actor, propertyId: string, roomTypeId: string): Promise<RoomTypeView> {
      assertCanSeeProperty(actor, propertyId);
      const roomType = await repo.findRoomType(db, propertyId, roomTypeId);
      if (!roomType) throw new NotFoundError('Room type', roomTypeId);
      return toRoomTypeView(roomType);
    },

    async create(ctx: WriteContext, propertyId: string, input: RoomTypeInput): Promise<RoomTypeView> {
      assertCanAdminProperty(ctx.actor, propertyId);
      try {
        const created = await db.transaction().execute(async (tx) => {
          if (!(await repo.findProperty(tx, propertyId))) throw new NotFoundError('Property', propertyId);
          const row = await repo.insertRoomType(tx, { ...input, property_id: propertyId });
          await recordAudit(tx, ctx, {
            action: 'room_type.created',
            entityType: 'room_type',
            entityId: row.id,
            propertyId,
            after: toRoomTypeView(row),
          });
          return row;
        });
        return toRoomTypeView(created);
      } catch (error) {
        throw duplicateCode(error, input.code);
      }
    },

    async update(
      ctx: WriteContext,
      propertyId: string,
      roomTypeId: string,
      changes: Partial<RoomTypeInput>,
    ): Promise<RoomTypeView> {
      assertCanAdminProperty(ctx.actor, propertyId);
      try {
        const updated = await db.transaction().execute(async (tx) => {
          const before = await repo.lockRoomType(tx, propertyId, roomTypeId, 'update');
          if (!before) throw new NotFoundError('Room type', roomTypeId);
          let nightsChanged = 0;
          if (changes.total_units !== undefined && changes.total_units !== before.total_units) {
            const property = await repo.findProperty(tx, propertyId);
            if (!property) throw new NotFoundError('Property', propertyId);
            nightsChanged = await applyCapacity(tx, ctx, before, property.timezone, changes.total_units);
          }
          const after = await repo.updateRoomType(tx, roomTypeId, changes);
          await recordAudit(tx, ctx, {
            action: 'room_type.updated',
            entityType: 'room_type',
            entityId: roomTypeId,
            propertyId,
            before: toRoomTypeView(before),
            after: { ...toRoomTypeView(after), ...(nightsChanged > 0 && { nights_changed: nightsChanged }) },
          });
          return after;
        });
        return toRoomTypeView(updated);
      } catch (error) {
        throw duplicateCode(error, changes.code);
      }
    },

    /** Refused while rooms, reservations or active holds depend on the room type. */
    async remove(ctx: WriteContext, propertyId: string, roomTypeId: string): Promise<void> {
      assertCanAdminProperty(ctx.actor, propertyId);
      await db.transaction().execute(async (tx) => {
        if (!(await repo.findRoomType(tx, propertyId, roomTypeId)))
          throw new NotFoundError('Room type', roomTypeId);
        // Nights before the room type row: the order a booking takes them in, so the two cannot deadlock.
        await repo.lockNights(tx, roomTypeId);
        const roomType = await repo.lockRoomType(tx, propertyId, roomTypeId, 'delete');
        if (!roomType) throw new NotFoundError('Room type', roomTypeId);
        const inUse = (count: number, what: string, advice: string) =>
          new ResourceInUseError(
            `Room type "${roomType.code}" has ${count} ${what} and cannot be deleted; ${advice}.`,
          );
        const rooms = await repo.countRooms(tx, roomTypeId);
        if (rooms > 0) throw inUse(rooms, 'room(s)', 'delete them or move them to another room type first');
        const reservations = await repo.countReservations(tx, { roomTypeId });
        if (reservations > 0) throw inUse(reservations, 'reservation(s)', 'it must stay for their history');
        const holds = await repo.countActiveHolds(tx, { roomTypeId });
        if (holds > 0) throw inUse(holds, 'active inventory hold(s)', 'release them first');
        try {
          await repo.deleteRoomType(tx, roomTypeId);
        } catch (error) {
          const table = repo.blockingReference(error);
          if (!table) throw error;
          throw new ResourceInUseError(
            `Room type "${roomType.code}" is still referenced by ${table.replaceAll('_', ' ')} records; ` +
              'remove them first.',
          );
        }
        await recordAudit(tx, ctx, {
          action: 'room_type.deleted',
          entityType: 'room_type',
          entityId: roomTypeId,
          propertyId,
          before: toRoomTypeView(roomType),
          after: null,
        });
      });
    },
  };
}

export type RoomTypeService = ReturnType<typeof createRoomTypeService>;
