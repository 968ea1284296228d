import { ConflictError, NotFoundError, ResourceInUseError, ValidationError } from '../../app/errors.ts';
import { pageOf } from '../../app/schemas.ts';
import type { Db, Tx } from '../../db/database.ts';
import type { HousekeepingStatus, RoomStatus } from '../../db/schema.ts';
import { type RequestContext, recordAudit } from '../audit/audit.repository.ts';
import { type Actor, assertCanAdminProperty, assertCanSeeProperty } from '../auth/auth.context.ts';
import { keysetAfter } from './property.keyset.ts';
import * as repo from './property.repository.ts';
import * as rooms from './room.repository.ts';

export type RoomView = ReturnType<typeof toRoomView>;

export function toOutOfOrderView(row: rooms.OutOfOrderRow) {
  return {
    id: row.id,
    room_id: row.room_id,
    room_type_id: row.room_type_id,
    start_date: row.start_date,
    end_date: row.end_date,
    reason: row.reason,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    returned_at: row.returned_at ? row.returned_at.toISOString() : null,
  };
}

/** The legacy single status: out of order, else occupied, else dirty, else available. */
function summaryStatus(row: rooms.RoomState): RoomStatus {
  if (row.out_of_order) return 'out_of_order';
  if (row.occupied_by) return 'occupied';
  return row.housekeeping_status === 'dirty' ? 'dirty' : 'available';
}

export function toRoomView(row: rooms.RoomState) {
  return {
    id: row.id,
    property_id: row.property_id,
    room_type_id: row.room_type_id,
    number: row.number,
    floor: row.floor,
    status: summaryStatus(row),
    housekeeping_status: row.housekeeping_status,
    occupancy: row.occupied_by ? ('occupied' as const) : ('vacant' as const),
    occupied_by: row.occupied_by,
    out_of_order: row.out_of_order ? toOutOfOrderView(row.out_of_order) : null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** What an audit row records of a room (its stored fields). */
function auditFields(row: {
  room_type_id: string;
  number: string;
  floor: string | null;
  housekeeping_status: string;
}) {
  return {
    room_type_id: row.room_type_id,
    number: row.number,
    floor: row.floor,
    housekeeping_status: row.housekeeping_status,
  };
}

export interface RoomInput {
  room_type_id: string;
  number: string;
  floor?: string | null;
  housekeeping_status?: HousekeepingStatus;
  /** Legacy (before migration 0053): available = clean, dirty = dirty. */
  status?: 'available' | 'dirty';
}

/** The stored fields of a room input, the legacy `status` turned into a housekeeping status. */
function storedFields(input: Partial<RoomInput>): repo.RoomChanges {
  const { status, housekeeping_status, ...rest } = input;
  const legacy = status === undefined ? undefined : status === 'dirty' ? 'dirty' : 'clean';
  if (legacy !== undefined && housekeeping_status !== undefined && legacy !== housekeeping_status) {
    throw new ValidationError('status and housekeeping_status disagree; send housekeeping_status only.', [
      {
        pointer: '/body/status',
        message: `means ${legacy}, but housekeeping_status is ${housekeeping_status}`,
      },
    ]);
  }
  const housekeeping = housekeeping_status ?? legacy;
  return { ...rest, ...(housekeeping !== undefined && { housekeeping_status: housekeeping }) };
}

type WriteContext = RequestContext & { actor: Actor };

function duplicateNumber(error: unknown, number: string | undefined): unknown {
  return repo.violatedUniqueConstraint(error) === 'room_property_id_number_key'
    ? new ConflictError(`Room number "${number}" already exists in this property.`)
    : error;
}

async function assertRoomTypeOfProperty(tx: Tx, propertyId: string, roomTypeId: string): Promise<void> {
  if (!(await repo.findRoomType(tx, propertyId, roomTypeId))) {
    throw new ValidationError(`Room type ${roomTypeId} is not a room type of this property.`, [
      { pointer: '/body/room_type_id', message: 'is not a room type of this property' },
    ]);
  }
}

/** The room as GET …/rooms/{id}/ shows it, read in the caller's transaction (or outside one). */
export async function roomView(source: Db | Tx, propertyId: string, roomId: string): Promise<RoomView> {
  const room = await rooms.findRoomState(source, propertyId, roomId);
  if (!room) throw new NotFoundError('Room', roomId);
  return toRoomView(room);
}

/** Use cases of the physical rooms of a property. */
export function createRoomService(db: Db) {
  const view = roomView;
  return {
    async list(
      actor: Actor,
      propertyId: string,
      query: {
        limit: number;
        cursor?: string;
        room_type_id?: string;
        status?: RoomStatus;
        housekeeping_status?: HousekeepingStatus;
        occupancy?: 'vacant' | 'occupied';
        floor?: string;
        search?: string;
      },
    ) {
      assertCanSeeProperty(actor, propertyId);
      if (!(await repo.findProperty(db, propertyId))) throw new NotFoundError('Property', propertyId);
      const rows = await rooms.listRoomStates(db, propertyId, {
        roomTypeId: query.room_type_id,
        status: query.status,
        housekeepingStatus: query.housekeeping_status,
        occupancy: query.occupancy,
        floor: query.floor,
        search: query.search,
        after: keysetAfter(query.cursor),
        limit: query.limit,
      });
      const page = pageOf(rows, query.limit, (r) => r.number);
      return { results: page.results.map(toRoomView), next_cursor: page.next_cursor };
    },

    async get(actor: Actor, propertyId: string, roomId: string): Promise<RoomView> {
      assertCanSeeProperty(actor, propertyId);
      return view(db, propertyId, roomId);
    },

    async create(ctx: WriteContext, propertyId: string, input: RoomInput): Promise<RoomView> {
      assertCanAdminProperty(ctx.actor, propertyId);
      const fields = storedFields(input) as RoomInput;
      try {
        return await db.transaction().execute(async (tx) => {
          if (!(await repo.findProperty(tx, propertyId))) throw new NotFoundError('Property', propertyId);
          await assertRoomTypeOfProperty(tx, propertyId, input.room_type_id);
          const row = await repo.insertRoom(tx, { ...fields, property_id: propertyId });
          await recordAudit(tx, ctx, {
            action: 'room.created',
            entityType: 'room',
            entityId: row.id,
            propertyId,
            after: auditFields(row),
          });
          return view(tx, propertyId, row.id);
        });
      } catch (error) {
        throw duplicateNumber(error, input.number);
      }
    },

    async update(
      ctx: WriteContext,
      propertyId: string,
      roomId: string,
      changes: Partial<RoomInput>,
    ): Promise<RoomView> {
      assertCanAdminProperty(ctx.actor, propertyId);
      const fields = storedFields(changes);
      try {
        return await db.transaction().execute(async (tx) => {
          const before = await repo.lockRoom(tx, propertyId, roomId, 'update');
          if (!before) throw new NotFoundError('Room', roomId);
          if (fields.room_type_id !== undefined && fields.room_type_id !== before.room_type_id) {
            await assertRoomTypeOfProperty(tx, propertyId, fields.room_type_id);
            // Its blocks counted out_of_order_units of the old room type's nights.
            const today = await rooms.businessDate(tx, propertyId);
            if ((await rooms.countBlocksFrom(tx, roomId, today!)) > 0) {
              throw new ResourceInUseError(
                `Room "${before.number}" is out of order on nights from ${today} on, counted in its room ` +
                  'type; return it to service before moving it to another room type.',
              );
            }
          }
          const after = await repo.updateRoom(tx, roomId, fields);
          await recordAudit(tx, ctx, {
            action: 'room.updated',
            entityType: 'room',
            entityId: roomId,
            propertyId,
            before: auditFields(before),
            after: auditFields(after),
          });
          return view(tx, propertyId, roomId);
        });
      } catch (error) {
        throw duplicateNumber(error, changes.number);
      }
    },

    /** Refused while a stay that is not over has the room assigned, or a block counts its nights. */
    async remove(ctx: WriteContext, propertyId: string, roomId: string): Promise<void> {
      assertCanAdminProperty(ctx.actor, propertyId);
      await db.transaction().execute(async (tx) => {
        const room = await repo.lockRoom(tx, propertyId, roomId, 'delete');
        if (!room) throw new NotFoundError('Room', roomId);
        const stays = await repo.countOpenAssignments(tx, roomId);
        if (stays > 0) {
          throw new ResourceInUseError(
            `Room "${room.number}" is assigned to ${stays} reservation(s) that are not over and cannot be ` +
              'deleted; assign them another room first.',
          );
        }
        const today = await rooms.businessDate(tx, propertyId);
        if ((await rooms.countBlocksFrom(tx, roomId, today!)) > 0) {
          throw new ResourceInUseError(
            `Room "${room.number}" is out of order on nights from ${today} on, which its room type's calendar ` +
              'counts; return it to service before deleting it.',
          );
        }
        await repo.deleteRoom(tx, roomId);
        await recordAudit(tx, ctx, {
          action: 'room.deleted',
          entityType: 'room',
          entityId: roomId,
          propertyId,
          before: auditFields(room),
          after: null,
        });
      });
    },
  };
}

export type RoomService = ReturnType<typeof createRoomService>;
