import { NotFoundError, ValidationError } from '../../app/errors.ts';
import type { Db, Tx } from '../../db/database.ts';
import { type RequestContext, recordAudit } from '../audit/audit.repository.ts';
import { type Actor, assertCanAdminProperty, canSeeProperty } from '../auth/auth.context.ts';
import { appendEvent } from '../events/outbox.ts';
import { datesInRange, daysBetween } from './rates.dates.ts';
import { DateRangeTooLongError, DerivedPlanAmountError } from './rates.errors.ts';
import { NO_RESTRICTIONS, RateBook, type Restrictions } from './rates.pricing.ts';
import * as repo from './rates.repository.ts';
import { DAY_NAMES, type DayName, type SetDailyRatesInput } from './rates.schemas.ts';

/** Two years of nights per request: a season or a whole budget year, and a bounded statement. */
export const MAX_RANGE_NIGHTS = 731;

function fail(pointer: string, message: string, detail = message): never {
  throw new ValidationError(detail, [{ pointer: `/body/${pointer}`, message }]);
}

function weekdaysOf(days: SetDailyRatesInput['days_of_week']): Set<number> | undefined {
  if (!days) return undefined;
  return new Set(days.map((day) => (typeof day === 'number' ? day : DAY_NAMES.indexOf(day as DayName) + 1)));
}

function roomTypesOf(input: SetDailyRatesInput): string[] {
  if ((input.room_type_id === undefined) === (input.room_type_ids === undefined)) {
    fail(
      'room_type_ids',
      'give exactly one of room_type_id and room_type_ids',
      'Give exactly one of room_type_id and room_type_ids.',
    );
  }
  const ids = input.room_type_ids ?? [input.room_type_id!];
  // Sorted, so every writer touches (room type, night) rows in the same order.
  return [...new Set(ids.map((id) => id.toLowerCase()))].sort();
}

/** Validates everything that needs no database, so bad input is refused before any lock is taken. */
function checkRequest(input: SetDailyRatesInput) {
  const roomTypeIds = roomTypesOf(input);
  const fields = repo.DAILY_FIELDS.filter((field) => input[field] !== undefined);
  if (input.follow_parent) {
    if (fields.length > 0) {
      fail(
        'follow_parent',
        'cannot be combined with values to set',
        'follow_parent stands alone: it removes the plan’s own restrictions.',
      );
    }
  } else if (fields.length === 0) {
    throw new ValidationError(
      `Nothing to change: give at least one of ${repo.DAILY_FIELDS.join(', ')} (or follow_parent).`,
      [{ pointer: '/body', message: 'names no field to change' }],
    );
  }
  if (
    input.min_stay !== undefined &&
    input.min_stay !== null &&
    input.max_stay !== undefined &&
    input.max_stay !== null &&
    input.min_stay > input.max_stay
  ) {
    fail('min_stay', 'must not exceed max_stay', 'min_stay must not exceed max_stay.');
  }
  const span = daysBetween(input.start_date, input.end_date);
  if (span < 0) fail('end_date', 'must not be before start_date', 'end_date must not be before start_date.');
  if (span + 1 > MAX_RANGE_NIGHTS)
    throw new DateRangeTooLongError(span + 1, MAX_RANGE_NIGHTS, '/body/end_date');
  const weekdays = weekdaysOf(input.days_of_week);
  const dates = datesInRange(input.start_date, input.end_date, weekdays);
  if (dates.length === 0) {
    fail(
      'days_of_week',
      'matches no night of the range',
      'No night of the range falls on the given days of the week.',
    );
  }
  return { roomTypeIds, fields, weekdays, dates };
}

/** What new rows of a derived plan start from: its parent's current restrictions, night by night. */
async function parentRestrictions(
  tx: Tx,
  parentId: string,
  roomTypeIds: string[],
  start: string,
  last: string,
): Promise<(roomTypeId: string, date: string) => Restrictions> {
  const chain = await repo.planAncestry(tx, parentId);
  const stored = await repo.loadStoredNights(tx, {
    ratePlanIds: chain.map((link) => link.id),
    roomTypeIds,
    start,
    last,
  });
  const book = new RateBook(
    chain.map((link) => ({
      id: link.id,
      parentId: link.parent_rate_plan_id,
      offsetType: link.offset_type,
      offsetValue: link.offset_value,
    })),
    stored,
  );
  return (roomTypeId, date) => book.resolve(parentId, roomTypeId, date);
}

/**
 * PUT /api/rates/daily/: sets the given fields on every night of the range that falls on the
 * given weekdays, for each room type, in one upsert; other fields keep their values. On a derived
 * plan only restrictions can be set: a night's own row then overrides the parent's restrictions
 * (new rows start from the parent's current ones), and follow_parent removes those rows again.
 */
export async function setDailyRates(
  db: Db,
  ctx: RequestContext & { actor: Actor },
  input: SetDailyRatesInput,
) {
  const { roomTypeIds, fields, weekdays, dates } = checkRequest(input);
  const plan = await repo.findPlan(db, input.rate_plan_id);
  if (!plan || !canSeeProperty(ctx.actor, plan.property_id))
    throw new NotFoundError('Rate plan', input.rate_plan_id);
  assertCanAdminProperty(ctx.actor, plan.property_id);

  return db.transaction().execute(async (tx) => {
    const locked = await repo.lockPlan(tx, plan.id, 'share');
    if (!locked) throw new NotFoundError('Rate plan', plan.id);
    const parentId = locked.parent_rate_plan_id;
    if (parentId !== null && input.amount !== undefined) throw new DerivedPlanAmountError();
    if (parentId === null && input.follow_parent) {
      fail('follow_parent', 'applies only to derived plans', 'The rate plan has no parent to follow.');
    }
    const known = await repo.listRoomTypes(tx, locked.property_id, roomTypeIds);
    if (known.length !== roomTypeIds.length) {
      fail(
        'room_type_ids',
        'contains a room type that does not exist in this property',
        'Unknown room type for this property.',
      );
    }

    let changed: number;
    if (input.follow_parent) {
      changed = await repo.deleteDailyRates(tx, { ratePlanId: plan.id, roomTypeIds, dates });
    } else {
      const seed =
        parentId === null
          ? () => NO_RESTRICTIONS
          : await parentRestrictions(tx, parentId, roomTypeIds, input.start_date, input.end_date);
      const cells = roomTypeIds.flatMap((roomTypeId) =>
        dates.map((date) => {
          const start = seed(roomTypeId, date);
          return {
            roomTypeId,
            date,
            amount: input.amount ?? null,
            minStay: input.min_stay !== undefined ? input.min_stay : start.minStay,
            maxStay: input.max_stay !== undefined ? input.max_stay : start.maxStay,
            closedToArrival: input.closed_to_arrival ?? start.closedToArrival,
            closedToDeparture: input.closed_to_departure ?? start.closedToDeparture,
            stopSell: input.stop_sell ?? start.stopSell,
          };
        }),
      );
      changed = await repo.upsertDailyRates(tx, {
        propertyId: locked.property_id,
        ratePlanId: plan.id,
        fields,
        cells,
      });
    }

    const derived = (await repo.planDescendants(tx, plan.id)).map((d) => d.id);
    const daysOfWeek = weekdays ? DAY_NAMES.filter((_, i) => weekdays.has(i + 1)) : [...DAY_NAMES];
    const setFields = input.follow_parent ? ['follow_parent'] : [...fields];
    const range = {
      rate_plan_id: plan.id,
      room_type_ids: roomTypeIds,
      start_date: input.start_date,
      end_date: input.end_date,
      days_of_week: daysOfWeek,
    };
    if (changed > 0) {
      const values = Object.fromEntries(fields.map((field) => [field, input[field]]));
      await recordAudit(tx, ctx, {
        action: input.follow_parent ? 'daily_rate.followed_parent' : 'daily_rate.set',
        entityType: 'rate_plan',
        entityId: plan.id,
        propertyId: locked.property_id,
        diff: { ...range, set: values, nights: dates.length, changed },
      });
      await appendEvent(tx, 'pms.rates.updated', locked.property_id, {
        cause: 'daily_rates',
        ...range,
        fields: setFields,
        affected_rate_plan_ids: [plan.id, ...derived],
        changed,
      });
    }
    return {
      ...range,
      fields: setFields,
      nights: dates.length,
      changed,
      affected_rate_plan_ids: [plan.id, ...derived],
    };
  });
}
