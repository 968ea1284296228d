import { NotFoundError } from '../../app/errors.ts';
import type { Db } from '../../db/database.ts';
import type { HousekeepingStatus } from '../../db/schema.ts';
import { type RequestContext, recordAudit } from '../audit/audit.repository.ts';
import { type Actor, assertCanSeeProperty } from '../auth/auth.context.ts';
import { appendEvent } from '../events/outbox.ts';
import * as repo from './property.repository.ts';
import * as rooms from './room.repository.ts';
import { type RoomView, roomView } from './room.service.ts';

type WriteContext = RequestContext & { actor: Actor };

/**
 * Housekeeping: the front desk and housekeeping staff (STAFF included) mark a room clean, dirty or
 * inspected. Audited, with a `pms.room.updated` event; the same status again changes nothing.
 */
export function createHousekeeping(db: Db) {
  return {
    async setStatus(
      ctx: WriteContext,
      propertyId: string,
      roomId: string,
      status: HousekeepingStatus,
    ): Promise<RoomView> {
      assertCanSeeProperty(ctx.actor, propertyId);
      return db.transaction().execute(async (tx) => {
        const room = await repo.lockRoom(tx, propertyId, roomId, 'update');
        if (!room) throw new NotFoundError('Room', roomId);
        if (room.housekeeping_status === status) return roomView(tx, propertyId, roomId);
        await rooms.setHousekeeping(tx, [roomId], status);
        await recordAudit(tx, ctx, {
          action: 'room.housekeeping',
          entityType: 'room',
          entityId: roomId,
          propertyId,
          before: { housekeeping_status: room.housekeeping_status },
          after: { housekeeping_status: status },
        });
        const view = await roomView(tx, propertyId, roomId);
        await appendEvent(tx, 'pms.room.updated', propertyId, {
          change: 'housekeeping',
          room: view,
          previous: { housekeeping_status: room.housekeeping_status },
        });
        return view;
      });
    },
  };
}
