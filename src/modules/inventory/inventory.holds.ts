import { NotFoundError } from '../../app/errors.ts';
import type { Db } from '../../db/database.ts';
import { type RequestContext, recordAudit, systemContext } from '../audit/audit.repository.ts';
import { type Actor, assertCanSeeProperty } from '../auth/auth.context.ts';
import { assertSelling } from '../properties/business-date.ts';
import type { StayUnits } from './inventory.contract.ts';
import { assertRange } from './inventory.dates.ts';
import { HoldNotActiveError, InventoryUnavailableError } from './inventory.errors.ts';
import {
  inInventoryTransaction,
  type LockSettings,
  lockStays,
  writeLockedNights,
} from './inventory.locking.ts';
import * as repo from './inventory.repository.ts';
import { MAX_STAY_NIGHTS } from './inventory.service.ts';

type WriteContext = RequestContext & { actor: Actor };

export interface HoldInput {
  room_type_id: string;
  check_in: string;
  check_out: string;
  units: number;
  ttl_minutes?: number;
  reference?: string | null;
}

export const DEFAULT_HOLD_TTL_MINUTES = 15;

export function holdStay(
  hold: Pick<repo.HoldRow, 'room_type_id' | 'check_in' | 'check_out' | 'units'>,
): StayUnits {
  return {
    roomTypeId: hold.room_type_id,
    checkIn: hold.check_in,
    checkOut: hold.check_out,
    units: hold.units,
  };
}

/** An active hold past its expiry is reported as expired even before the sweeper releases it. */
export function effectiveHoldStatus(hold: repo.HoldRow, now = new Date()) {
  return hold.status === 'active' && hold.expires_at <= now ? 'expired' : hold.status;
}

export function toHoldView(hold: repo.HoldRow) {
  return {
    id: hold.id,
    property_id: hold.property_id,
    room_type_id: hold.room_type_id,
    check_in: hold.check_in,
    check_out: hold.check_out,
    units: hold.units,
    status: effectiveHoldStatus(hold),
    reference: hold.reference,
    expires_at: hold.expires_at.toISOString(),
    created_at: hold.created_at.toISOString(),
    updated_at: hold.updated_at.toISOString(),
  };
}

export type HoldView = ReturnType<typeof toHoldView>;

/** Holds: a cart or a channel takes units for some nights for minutes, without booking them. */
export function createHoldService(db: Db, lock: LockSettings) {
  async function loadVisible(actor: Actor, id: string): Promise<repo.HoldRow> {
    const hold = await repo.findHold(db, id);
    if (!hold) throw new NotFoundError('Hold', id);
    assertCanSeeProperty(actor, hold.property_id, 'Hold', id);
    return hold;
  }

  return {
    async create(ctx: WriteContext, input: HoldInput): Promise<HoldView> {
      assertRange(input.check_in, input.check_out, MAX_STAY_NIGHTS, {
        start: '/body/check_in',
        end: '/body/check_out',
      });
      const [roomType] = await repo.findRoomTypes(db, [input.room_type_id]);
      if (!roomType) throw new NotFoundError('Room type', input.room_type_id);
      assertCanSeeProperty(ctx.actor, roomType.property_id, 'Room type', input.room_type_id);
      assertSelling({ ...roomType, id: roomType.property_id }, input.check_in);
      const ttl = input.ttl_minutes ?? DEFAULT_HOLD_TTL_MINUTES;
      const id = crypto.randomUUID();
      const stay: StayUnits = {
        roomTypeId: roomType.id,
        checkIn: input.check_in,
        checkOut: input.check_out,
        units: input.units,
      };
      const hold = await inInventoryTransaction(db, lock, async (tx, mode) => {
        const row = await repo.insertHold(tx, {
          id,
          property_id: roomType.property_id,
          room_type_id: roomType.id,
          check_in: input.check_in,
          check_out: input.check_out,
          units: input.units,
          reference: input.reference ?? null,
          expires_at: new Date(Date.now() + ttl * 60_000),
          created_by: ctx.actor.id,
        });
        await recordAudit(tx, ctx, {
          action: 'hold.created',
          entityType: 'inventory_hold',
          entityId: id,
          propertyId: roomType.property_id,
          after: toHoldView(row),
        });
        const nights = await lockStays(tx, roomType.property_id, [stay], mode);
        const blocked = nights.applyDirect(
          { hold: [stay] },
          { reason: 'hold.created', holdId: id, actorId: ctx.actor.id },
        );
        if (blocked.length > 0) throw new InventoryUnavailableError(blocked);
        await writeLockedNights(tx, nights, 'hold.created');
        return row;
      });
      return toHoldView(hold);
    },

    async get(actor: Actor, id: string): Promise<HoldView> {
      return toHoldView(await loadVisible(actor, id));
    },

    /** Gives the units back. Idempotent for a hold already released or expired; a confirmed hold is a booking. */
    async release(ctx: WriteContext, id: string): Promise<HoldView> {
      await loadVisible(ctx.actor, id);
      const hold = await inInventoryTransaction(db, lock, async (tx, mode) => {
        const [row] = await repo.lockHolds(tx, [id]);
        if (!row) throw new NotFoundError('Hold', id);
        if (row.status === 'released' || row.status === 'expired') return row;
        if (row.status === 'confirmed') throw new HoldNotActiveError(id, row.status);
        await repo.setHoldStatus(tx, [id], 'released');
        await recordAudit(tx, ctx, {
          action: 'hold.released',
          entityType: 'inventory_hold',
          entityId: id,
          propertyId: row.property_id,
          before: { status: row.status },
          after: { status: 'released' },
        });
        const nights = await lockStays(tx, row.property_id, [holdStay(row)], mode);
        nights.applyDirect(
          { unhold: [holdStay(row)] },
          { reason: 'hold.released', holdId: id, actorId: ctx.actor.id },
        );
        await writeLockedNights(tx, nights, 'hold.released');
        return { ...row, status: 'released' as const, updated_at: new Date() };
      });
      return toHoldView(hold);
    },
  };
}

export type HoldService = ReturnType<typeof createHoldService>;

/**
 * Releases every active hold past its expiry, one transaction per property and batch. Holds
 * being confirmed or released right now are skipped (SKIP LOCKED) and handled by their owner.
 */
export async function releaseExpiredHolds(
  db: Db,
  lock: LockSettings,
  options: { asOf?: Date; batchSize?: number } = {},
): Promise<number> {
  const asOf = options.asOf ?? new Date();
  const batchSize = options.batchSize ?? 200;
  let released = 0;
  for (const propertyId of await repo.propertiesWithExpiredHolds(db, asOf)) {
    for (;;) {
      const count = await inInventoryTransaction(db, lock, async (tx, mode) => {
        const holds = await repo.claimExpiredHolds(tx, propertyId, asOf, batchSize);
        if (holds.length === 0) return 0;
        await repo.setHoldStatus(
          tx,
          holds.map((hold) => hold.id),
          'expired',
        );
        for (const hold of holds) {
          await recordAudit(tx, systemContext, {
            action: 'hold.expired',
            entityType: 'inventory_hold',
            entityId: hold.id,
            propertyId,
            before: { status: 'active' },
            after: { status: 'expired' },
          });
        }
        const nights = await lockStays(tx, propertyId, holds.map(holdStay), mode);
        for (const hold of holds) {
          nights.applyDirect(
            { unhold: [holdStay(hold)] },
            { reason: 'hold.expired', holdId: hold.id, actorId: null },
          );
        }
        await writeLockedNights(tx, nights, 'hold.expired');
        return holds.length;
      });
      released += count;
      if (count < batchSize) break;
    }
  }
  return released;
}
