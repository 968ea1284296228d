import { Decimal } from 'decimal.js';
import { NotFoundError, ValidationError } from '../../app/errors.ts';
import type { Db, Tx } from '../../db/database.ts';
import { type RequestContext, recordAudit } from '../audit/audit.repository.ts';
import { type Actor, assertCanAdminProperty, assertCanSeeProperty } from '../auth/auth.context.ts';
import { buildEnvelope } from '../events/outbox.ts';
import { PropertyInactiveError } from '../properties/business-date.ts';
import { assertOccupancy } from '../properties/max-occupancy.ts';
import type { StayQuote } from '../rates/rates.contract.ts';
import { quoteStay, quoteViolations } from '../rates/rates.service.ts';
import type { ApplyImportedChanges, OverbookedNight } from './inventory.contract.ts';
import { addDays, assertRange, nightCount, nightsOf, todayIn } from './inventory.dates.ts';
import { InventoryConflictError, type NightReason } from './inventory.errors.ts';
import {
  inInventoryTransaction,
  type LockSettings,
  lockStays,
  nightCounts,
  rangesOf,
  writeLockedNights,
} from './inventory.locking.ts';
import { freeUnits } from './inventory.nights.ts';
import * as repo from './inventory.repository.ts';

/** The longest range one preload, adjustment or calendar read may cover. */
export const MAX_RANGE_NIGHTS = 1096;
export const MAX_CALENDAR_NIGHTS = 366;
/** The longest stay the booking path accepts (the rates module prices at most two years). */
export const MAX_STAY_NIGHTS = 730;

type WriteContext = RequestContext & { actor: Actor };

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** ISO weekday (1 = Monday … 7 = Sunday) of a date. */
function isoWeekday(date: string): number {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day === 0 ? 7 : day;
}

function weekdayFilter(days: Array<string | number> | undefined): (date: string) => boolean {
  if (!days) return () => true;
  const wanted = new Set(days.map((d) => (typeof d === 'number' ? d : WEEKDAYS.indexOf(d as never) + 1)));
  return (date) => wanted.has(isoWeekday(date));
}

export interface PreloadInput {
  room_type_id?: string;
  property_id?: string;
  start_date: string;
  /** Last night to load (inclusive). */
  end_date: string;
}

export interface AdjustInput {
  room_type_id: string;
  start_date: string;
  /** Last night to change (inclusive). */
  end_date: string;
  days_of_week?: Array<string | number>;
  total_units?: number;
  out_of_order_units?: number;
  overbooking_limit?: number;
  stop_sell?: boolean;
}

export interface CheckInput {
  room_type_id: string;
  check_in: string;
  check_out: string;
  units?: number;
  rate_plan_id?: string;
  adults?: number;
  children?: number;
}

export interface CalendarQuery {
  property_id: string;
  start: string;
  /** Last night (inclusive). */
  end: string;
  room_type_id?: string;
}

function assertStay(checkIn: string, checkOut: string): void {
  assertRange(checkIn, checkOut, MAX_STAY_NIGHTS, { start: '/body/check_in', end: '/body/check_out' });
}

/**
 * The reasons a stay breaks its rate plan's rules, per night (same order as the quote's nights),
 * plus NO_RATE where no amount is loaded. Shared by the availability check and the booking path.
 */
export function rateReasons(quote: StayQuote): NightReason[][] {
  const violations = quoteViolations(quote);
  return quote.nights.map((night, i) => {
    const reasons: NightReason[] = [...(violations[i]?.reasons ?? [])];
    if (night.amount === null) reasons.push('NO_RATE');
    return reasons;
  });
}

/**
 * Creates the missing nights [start, end) of some room types and announces each room type's new
 * nights with one `pms.inventory.updated` event (a range summary, not every night).
 */
async function loadNights(
  tx: Tx,
  propertyId: string,
  roomTypeIds: string[],
  start: string,
  end: string,
  actorId: string | null,
): Promise<number> {
  const ranges = roomTypeIds.map((roomTypeId) => ({ roomTypeId, start, end }));
  const perRoomType = await repo.createMissingNights(tx, propertyId, ranges, actorId);
  await repo.insertEvents(
    tx,
    perRoomType.map((row) =>
      buildEnvelope('pms.inventory.updated', propertyId, {
        property_id: propertyId,
        room_type_id: row.room_type_id,
        reason: 'preload',
        start_date: start,
        end_date: addDays(end, -1),
        nights_created: row.created,
      }),
    ),
  );
  return perRoomType.reduce((sum, row) => sum + row.created, 0);
}

/**
 * Loads the `days` nights from `start` (the business date) for some room types in the caller's
 * transaction: what a new room type gets at once and what the night audit keeps ahead. Idempotent.
 */
export function loadHorizon(
  tx: Tx,
  propertyId: string,
  roomTypeIds: string[],
  start: string,
  days: number,
  actorId: string | null,
): Promise<number> {
  return loadNights(tx, propertyId, roomTypeIds, start, addDays(start, days), actorId);
}

/**
 * Rooms out of order (docs/inventory.md, "Out-of-order rooms") count in out_of_order_units: an
 * adjustment may not set a night below the rooms out of order on it, or returning them would
 * take units the night no longer counts. Read under the nights' locks, which block changes take too.
 */
async function assertOutOfOrderRooms(
  tx: Tx,
  roomTypeId: string,
  dates: string[],
  units: number,
): Promise<void> {
  if (dates.length === 0) return;
  const perNight = await repo.outOfOrderRoomsPerNight(tx, roomTypeId, dates);
  const night = perNight.find((row) => row.rooms > units);
  if (night) {
    throw new InventoryConflictError(
      roomTypeId,
      night.date,
      `${night.rooms} room(s) are out of order on this night; return them to service rather than setting ` +
        `out_of_order_units below ${night.rooms}.`,
    );
  }
}

export function createInventoryService(db: Db, lock: LockSettings) {
  async function loadRoomType(actor: Actor, id: string): Promise<repo.RoomTypeRef> {
    const [roomType] = await repo.findRoomTypes(db, [id]);
    if (!roomType) throw new NotFoundError('Room type', id);
    assertCanSeeProperty(actor, roomType.property_id, 'Room type', id);
    return roomType;
  }

  return {
    /** Creates the missing calendar rows of a room type or a whole property; idempotent. */
    async preload(ctx: WriteContext, input: PreloadInput) {
      if ((input.room_type_id === undefined) === (input.property_id === undefined)) {
        throw new ValidationError('Give exactly one of room_type_id and property_id.', [
          { pointer: '/body/room_type_id', message: 'exactly one of room_type_id and property_id' },
        ]);
      }
      const end = addDays(input.end_date, 1);
      assertRange(input.start_date, end, MAX_RANGE_NIGHTS, {
        start: '/body/start_date',
        end: '/body/end_date',
      });
      let propertyId: string;
      let roomTypeIds: string[];
      if (input.room_type_id) {
        const roomType = await loadRoomType(ctx.actor, input.room_type_id);
        propertyId = roomType.property_id;
        roomTypeIds = [roomType.id];
      } else {
        propertyId = input.property_id!;
        assertCanSeeProperty(ctx.actor, propertyId);
        if (!(await repo.propertyExists(db, propertyId))) throw new NotFoundError('Property', propertyId);
        roomTypeIds = await repo.findPropertyRoomTypeIds(db, propertyId);
      }
      assertCanAdminProperty(ctx.actor, propertyId);
      const created = await db.transaction().execute(async (tx) => {
        const total = await loadNights(tx, propertyId, roomTypeIds, input.start_date, end, ctx.actor.id);
        await recordAudit(tx, ctx, {
          action: 'inventory.preloaded',
          entityType: input.room_type_id ? 'room_type' : 'property',
          entityId: input.room_type_id ?? propertyId,
          propertyId,
          diff: { start_date: input.start_date, end_date: input.end_date, nights_created: total },
        });
        return total;
      });
      return {
        property_id: propertyId,
        room_type_ids: roomTypeIds,
        start_date: input.start_date,
        end_date: input.end_date,
        created,
      };
    },

    async calendar(actor: Actor, query: CalendarQuery) {
      assertCanSeeProperty(actor, query.property_id);
      const end = addDays(query.end, 1);
      assertRange(query.start, end, MAX_CALENDAR_NIGHTS, {
        start: '/querystring/start',
        end: '/querystring/end',
      });
      const rows = await repo.readCalendar(db, {
        propertyId: query.property_id,
        roomTypeId: query.room_type_id,
        start: query.start,
        end,
      });
      return { results: rows.map((row) => ({ room_type_id: row.room_type_id, ...nightCounts(row) })) };
    },

    /**
     * An admin change of capacity, out-of-order units, overbooking limit or stop-sell over a range
     * of nights (loading missing ones first). All nights change or none: a night that would end
     * with more units sold or held than it can sell refuses the whole change (INVENTORY_CONFLICT).
     */
    async adjust(ctx: WriteContext, input: AdjustInput) {
      const changes = {
        totalUnits: input.total_units,
        outOfOrderUnits: input.out_of_order_units,
        overbookingLimit: input.overbooking_limit,
        stopSell: input.stop_sell,
      };
      if (Object.values(changes).every((value) => value === undefined)) {
        throw new ValidationError(
          'Give at least one of total_units, out_of_order_units, overbooking_limit, stop_sell.',
        );
      }
      const end = addDays(input.end_date, 1);
      assertRange(input.start_date, end, MAX_RANGE_NIGHTS, {
        start: '/body/start_date',
        end: '/body/end_date',
      });
      const roomType = await loadRoomType(ctx.actor, input.room_type_id);
      assertCanAdminProperty(ctx.actor, roomType.property_id);
      const dates = nightsOf(input.start_date, end).filter(weekdayFilter(input.days_of_week));
      const propertyId = roomType.property_id;
      const stay = [{ roomTypeId: roomType.id, checkIn: input.start_date, checkOut: end, units: 0 }];

      const nights = await inInventoryTransaction(db, lock, async (tx, mode) => {
        await repo.createMissingNights(tx, propertyId, rangesOf(stay), ctx.actor.id);
        const locked = await lockStays(tx, propertyId, stay, mode);
        if (input.out_of_order_units !== undefined) {
          await assertOutOfOrderRooms(tx, roomType.id, dates, input.out_of_order_units);
        }
        locked.adjust(roomType.id, dates, changes, { reason: 'inventory.adjusted', actorId: ctx.actor.id });
        await writeLockedNights(tx, locked, 'inventory.adjusted');
        await recordAudit(tx, ctx, {
          action: 'inventory.adjusted',
          entityType: 'room_type',
          entityId: roomType.id,
          propertyId,
          diff: {
            start_date: input.start_date,
            end_date: input.end_date,
            days_of_week: input.days_of_week ?? null,
            nights: dates.length,
            nights_changed: locked.changedNights().length,
            ...Object.fromEntries(
              Object.entries({
                total_units: input.total_units,
                out_of_order_units: input.out_of_order_units,
                overbooking_limit: input.overbooking_limit,
                stop_sell: input.stop_sell,
              }).filter(([, value]) => value !== undefined),
            ),
          },
        });
        return dates.map((date) => locked.get(roomType.id, date)!);
      });
      return {
        room_type_id: roomType.id,
        results: nights.map((row) => ({ room_type_id: row.room_type_id, ...nightCounts(row) })),
      };
    },

    /**
     * Can this stay be sold now, night by night and why not, with a price when a rate plan is
     * given. A read without locks: the booking itself decides under lock.
     */
    async check(actor: Actor, input: CheckInput) {
      assertStay(input.check_in, input.check_out);
      const units = input.units ?? 1;
      const stay = await repo.readStayNights(db, input.room_type_id, input.check_in, input.check_out);
      if (!stay) throw new NotFoundError('Room type', input.room_type_id);
      const { seller, nights: stayNights } = stay;
      const propertyId = seller.property_id;
      assertCanSeeProperty(actor, propertyId, 'Room type', input.room_type_id);
      if (seller.status !== 'active') throw new PropertyInactiveError({ id: propertyId, code: seller.code });
      assertOccupancy(
        [
          {
            roomTypeId: input.room_type_id,
            adults: input.adults ?? 1,
            children: input.children ?? 0,
            pointer: '/body/adults',
          },
        ],
        () => seller.max_occupancy,
      );

      const quote = input.rate_plan_id
        ? await quoteStay(db, {
            propertyId,
            ratePlanId: input.rate_plan_id,
            roomTypeId: input.room_type_id,
            checkIn: input.check_in,
            checkOut: input.check_out,
            adults: input.adults,
            children: input.children,
          })
        : undefined;
      const fromRates = quote ? rateReasons(quote) : [];

      const nights = stayNights.map((night, i) => {
        const available = night.loaded ? Math.max(0, freeUnits(night)) : 0;
        const reasons: NightReason[] = [];
        // A night before the business date is over: it is never sold again.
        if (night.date < seller.business_date) reasons.push('PAST_NIGHT');
        if (!night.loaded) reasons.push('NOT_LOADED');
        else {
          if (night.stop_sell) reasons.push('STOP_SELL');
          // Imported excess on a night stops direct sales until it is absorbed.
          if (available < units || night.overbooked_units > 0) reasons.push('SOLD_OUT');
        }
        for (const reason of fromRates[i] ?? []) if (!reasons.includes(reason)) reasons.push(reason);
        return {
          date: night.date,
          total_units: night.total_units,
          booked_units: night.booked_units,
          held_units: night.held_units,
          out_of_order_units: night.out_of_order_units,
          overbooking_limit: night.overbooking_limit,
          overbooked_units: night.overbooked_units,
          available_units: available,
          stop_sell: night.stop_sell,
          bookable: reasons.length === 0,
          reasons,
        };
      });
      return {
        room_type_id: input.room_type_id,
        check_in: input.check_in,
        check_out: input.check_out,
        units,
        available: nights.every((night) => night.bookable),
        nights,
        ...(quote && {
          quote: {
            rate_plan_id: quote.ratePlanId,
            currency: quote.currency,
            units,
            total: quote.total === null ? null : new Decimal(quote.total).times(units).toFixed(2),
            nightly: quote.nights.map((night) => ({ date: night.date, amount: night.amount })),
          },
        }),
      };
    },
  };
}

export type InventoryService = ReturnType<typeof createInventoryService>;

/**
 * Implements the ApplyImportedChanges contract for PMS ingestion: every change's releases and
 * takes are applied in order against nights locked once, in key order, then written with one
 * multi-row update, one multi-row ledger insert and one event per room type. Imported bookings
 * always wait for their locks (the caller owns the transaction and cannot replay it).
 */
export const applyImportedChanges: ApplyImportedChanges = async (tx, input) => {
  const stays = input.changes.flatMap((change) => [...change.release, ...change.take]);
  for (const stay of stays) {
    if (nightCount(stay.checkIn, stay.checkOut) < 1 || stay.units < 0 || !Number.isInteger(stay.units)) {
      throw new ValidationError(`An imported stay of room type ${stay.roomTypeId} is not a valid stay.`);
    }
  }
  const ranges = rangesOf(stays);
  if (ranges.length === 0) return { overbooked: [] };
  await repo.createMissingNights(tx, input.propertyId, ranges, input.actorId);
  const locked = await lockStays(tx, input.propertyId, stays, { nowait: false });
  for (const range of ranges) {
    for (const date of nightsOf(range.start, range.end)) {
      if (!locked.get(range.roomTypeId, date)) {
        throw new NotFoundError('Room type', range.roomTypeId);
      }
    }
  }
  const firstEntry = locked.ledger.length;
  for (const change of input.changes) {
    locked.applyImported(change.release, change.take, {
      reason: input.reason,
      reservationId: change.reservationId,
      actorId: input.actorId,
    });
  }
  if (input.syncRunId) locked.foldLedger(firstEntry, { syncRunId: input.syncRunId, actorId: input.actorId });
  await writeLockedNights(tx, locked, input.reason);
  const overbooked: OverbookedNight[] = [];
  for (const range of ranges) {
    for (const date of nightsOf(range.start, range.end)) {
      const night = locked.get(range.roomTypeId, date)!;
      if (night.overbooked_units > 0) {
        overbooked.push({ roomTypeId: night.room_type_id, date, overbookedUnits: night.overbooked_units });
      }
    }
  }
  return { overbooked };
};

/**
 * Loads `days` nights from each property's today (hotel-local) for every room type, reporting
 * progress per property. Idempotent: nights already loaded are left as they are.
 */
export async function bootstrapInventory(
  db: Db,
  options: { days: number; log: (line: string) => void },
): Promise<{ properties: number; roomTypes: number; created: number }> {
  const properties = await repo.listPropertiesWithRoomTypes(db);
  let roomTypes = 0;
  let created = 0;
  for (const [index, property] of properties.entries()) {
    const ids = property.room_type_ids ?? [];
    const start = todayIn(property.timezone);
    const end = addDays(start, options.days);
    const made = await db.transaction().execute(async (tx) => {
      const total = await loadNights(tx, property.id, ids, start, end, null);
      if (total > 0) {
        await recordAudit(
          tx,
          { actor: null, requestId: null },
          {
            action: 'inventory.preloaded',
            entityType: 'property',
            entityId: property.id,
            propertyId: property.id,
            diff: { start_date: start, end_date: addDays(end, -1), nights_created: total },
          },
        );
      }
      return total;
    });
    roomTypes += ids.length;
    created += made;
    options.log(
      `[${index + 1}/${properties.length}] ${property.code}: ${ids.length} room type(s), ` +
        `${made} night(s) created (${start} .. ${addDays(end, -1)})`,
    );
  }
  return { properties: properties.length, roomTypes, created };
}
