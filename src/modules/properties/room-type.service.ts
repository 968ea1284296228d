import { DateTime } from 'luxon';
import { addDays, nightsOf } from '../../app/dates.ts';
import { ConflictError, NotFoundError, ResourceInUseError } from '../../app/errors.ts';
import { pageOf } from '../../app/schemas.ts';
import type { Db, Tx } from '../../db/database.ts';
import type { RoomType } from '../../db/schema.ts';
import { type RequestContext, recordAudit } from '../audit/audit.repository.ts';
import { type Actor, assertCanAdminProperty, assertCanSeeProperty } from '../auth/auth.context.ts';
import { lockStays, writeLockedNights } from '../inventory/inventory.locking.ts';
import { loadHorizon } from '../inventory/inventory.service.ts';
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
function minimumTotal(
  night: Pick<repo.CalendarNight, 'booked_units' | 'held_units' | 'out_of_order_units' | 'overbooking_limit'>,
): number {
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
 * Through the inventory module's locked nights, like every capacity change: nights locked in key
 * order, imported excess absorbed by new rooms at once, and the ledger and events written with it.
 */
async function applyCapacity(
  tx: Tx,
  ctx: WriteContext,
  roomType: RoomType,
  timezone: string,
  totalUnits: number,
): Promise<number> {
  const today = DateTime.now().setZone(timezone).toISODate()!;
  const last = await repo.lastLoadedNight(tx, roomType.id, today);
  if (last === undefined) return 0;
  const stay = { roomTypeId: roomType.id, checkIn: today, checkOut: addDays(last, 1), units: 0 };
  const locked = await lockStays(tx, roomType.property_id, [stay], { nowait: false });
  const dates = nightsOf(stay.checkIn, stay.checkOut);
  const nights = dates.flatMap((date) => locked.get(roomType.id, date) ?? []);
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
  locked.adjust(roomType.id, dates, { totalUnits }, { reason: CAPACITY_REASON, actorId: ctx.actor.id });
  const changed = locked.changedNights().length;
  await writeLockedNights(tx, locked, CAPACITY_REASON);
  return changed;
}

/**
 * Use cases of room types; every one is scoped to a property the actor may see. `horizonDays`:
 * nights a new room type gets at once from the business date on (INVENTORY_HORIZON_DAYS).
 */
export function createRoomTypeService(db: Db, options: { horizonDays?: number } = {}) {
  const horizonDays = options.horizonDays ?? 365;
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
          const property = await repo.findProperty(tx, propertyId);
          if (!property) throw new NotFoundError('Property', propertyId);
          const row = await repo.insertRoomType(tx, { ...input, property_id: propertyId });
          // Sellable at once: its nights over the horizon come with it, so no sale answers NOT_LOADED.
          const nightsLoaded = await loadHorizon(
            tx,
            propertyId,
            [row.id],
            property.business_date,
            horizonDays,
            ctx.actor.id,
          );
          await recordAudit(tx, ctx, {
            action: 'room_type.created',
            entityType: 'room_type',
            entityId: row.id,
            propertyId,
            after: { ...toRoomTypeView(row), nights_loaded: nightsLoaded },
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
