import { ConflictError, NotFoundError, ResourceInUseError, ValidationError } from '../../app/errors.ts';
import { pageOf } from '../../app/schemas.ts';
import type { Db, Tx } from '../../db/database.ts';
import type { Room, RoomStatus } from '../../db/schema.ts';
import { type RequestContext, recordAudit } from '../audit/audit.repository.ts';
import { type Actor, assertCanAdminProperty, assertCanSeeProperty } from '../auth/auth.context.ts';
import { keysetAfter } from './property.keyset.ts';
import * as repo from './property.repository.ts';

export type RoomView = {
  id: string;
  property_id: string;
  room_type_id: string;
  number: string;
  floor: string | null;
  status: RoomStatus;
  created_at: string;
  updated_at: string;
};

export function toRoomView(row: Room): RoomView {
  return {
    id: row.id,
    property_id: row.property_id,
    room_type_id: row.room_type_id,
    number: row.number,
    floor: row.floor,
    status: row.status,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export interface RoomInput {
  room_type_id: string;
  number: string;
  floor?: string | null;
  status?: RoomStatus;
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

/** Use cases of the physical rooms of a property. */
export function createRoomService(db: Db) {
  return {
    async list(
      actor: Actor,
      propertyId: string,
      query: {
        limit: number;
        cursor?: string;
        room_type_id?: string;
        status?: RoomStatus;
        floor?: string;
        search?: string;
      },
    ) {
      assertCanSeeProperty(actor, propertyId);
      if (!(await repo.findProperty(db, propertyId))) throw new NotFoundError('Property', propertyId);
      const rows = await repo.listRooms(db, propertyId, {
        roomTypeId: query.room_type_id,
        status: query.status,
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
      const room = await repo.findRoom(db, propertyId, roomId);
      if (!room) throw new NotFoundError('Room', roomId);
      return toRoomView(room);
    },

    async create(ctx: WriteContext, propertyId: string, input: RoomInput): Promise<RoomView> {
      assertCanAdminProperty(ctx.actor, propertyId);
      try {
        const created = await db.transaction().execute(async (tx) => {
          if (!(await repo.findProperty(tx, propertyId))) throw new NotFoundError('Property', propertyId);
          await assertRoomTypeOfProperty(tx, propertyId, input.room_type_id);
          const row = await repo.insertRoom(tx, { ...input, property_id: propertyId });
          await recordAudit(tx, ctx, {
            action: 'room.created',
            entityType: 'room',
            entityId: row.id,
            propertyId,
            after: toRoomView(row),
          });
          return row;
        });
        return toRoomView(created);
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
      try {
        const updated = await db.transaction().execute(async (tx) => {
          const before = await repo.lockRoom(tx, propertyId, roomId, 'update');
          if (!before) throw new NotFoundError('Room', roomId);
          if (changes.room_type_id !== undefined) {
            await assertRoomTypeOfProperty(tx, propertyId, changes.room_type_id);
          }
          const after = await repo.updateRoom(tx, roomId, changes);
          await recordAudit(tx, ctx, {
            action: 'room.updated',
            entityType: 'room',
            entityId: roomId,
            propertyId,
            before: toRoomView(before),
            after: toRoomView(after),
          });
          return after;
        });
        return toRoomView(updated);
      } catch (error) {
        throw duplicateNumber(error, changes.number);
      }
    },

    /** Refused while a stay that is not over has the room assigned. */
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
        await repo.deleteRoom(tx, roomId);
        await recordAudit(tx, ctx, {
          action: 'room.deleted',
          entityType: 'room',
          entityId: roomId,
          propertyId,
          before: toRoomView(room),
          after: null,
        });
      });
    },
  };
}

export type RoomService = ReturnType<typeof createRoomService>;
