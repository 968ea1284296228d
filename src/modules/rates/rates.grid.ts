import { NotFoundError, ValidationError } from '../../app/errors.ts';
import type { Db } from '../../db/database.ts';
import { type Actor, assertCanSeeProperty } from '../auth/auth.context.ts';
import { datesInRange, daysBetween } from './rates.dates.ts';
import { DateRangeTooLongError } from './rates.errors.ts';
import { RateBook } from './rates.pricing.ts';
import * as repo from './rates.repository.ts';

/** A year of nights, and a bounded response: plans × room types × nights. */
export const MAX_GRID_NIGHTS = 366;
export const MAX_GRID_CELLS = 50_000;

export interface GridQuery {
  property_id: string;
  start: string;
  end: string;
  rate_plan_id?: string;
  room_type_id?: string;
}

/**
 * GET /api/rates/grid/: every plan × room type × night of the range with its resolved amount
 * (derived plans computed from their parents) and effective restrictions.
 */
export async function buildGrid<View>(
  db: Db,
  actor: Actor,
  query: GridQuery,
  view: (plan: repo.RatePlanRow) => View,
) {
  assertCanSeeProperty(actor, query.property_id);
  const span = daysBetween(query.start, query.end);
  if (span < 0) {
    throw new ValidationError('end must not be before start.', [
      { pointer: '/querystring/end', message: 'must not be before start' },
    ]);
  }
  if (span + 1 > MAX_GRID_NIGHTS)
    throw new DateRangeTooLongError(span + 1, MAX_GRID_NIGHTS, '/querystring/end');

  const [currency, plans, roomTypes] = await Promise.all([
    repo.findPropertyCurrency(db, query.property_id),
    repo.listPropertyPlans(db, query.property_id),
    repo.listRoomTypes(db, query.property_id, query.room_type_id ? [query.room_type_id] : undefined),
  ]);
  if (currency === undefined) throw new NotFoundError('Property', query.property_id);
  const selected = query.rate_plan_id ? plans.filter((plan) => plan.id === query.rate_plan_id) : plans;
  if (query.rate_plan_id && selected.length === 0) throw new NotFoundError('Rate plan', query.rate_plan_id);
  if (query.room_type_id && roomTypes.length === 0) throw new NotFoundError('Room type', query.room_type_id);

  const dates = datesInRange(query.start, query.end);
  const cells = selected.length * roomTypes.length * dates.length;
  if (cells > MAX_GRID_CELLS) {
    throw new ValidationError(
      `The grid would have ${cells} cells; at most ${MAX_GRID_CELLS}. Narrow the dates or filter by rate_plan_id or room_type_id.`,
      [{ pointer: '/querystring/end', message: `gives more than ${MAX_GRID_CELLS} cells` }],
    );
  }

  // Derived plans need their ancestors' rows, even when only the derived plan is shown.
  const byId = new Map(plans.map((plan) => [plan.id, plan]));
  const needed = new Set<string>();
  for (const plan of selected) {
    for (let p: repo.RatePlanRow | undefined = plan; p && !needed.has(p.id); ) {
      needed.add(p.id);
      p = p.parent_rate_plan_id ? byId.get(p.parent_rate_plan_id) : undefined;
    }
  }
  const stored = await repo.loadStoredNights(db, {
    ratePlanIds: [...needed],
    roomTypeIds: roomTypes.map((roomType) => roomType.id),
    start: query.start,
    last: query.end,
  });
  const book = new RateBook(
    plans.map((plan) => ({
      id: plan.id,
      parentId: plan.parent_rate_plan_id,
      offsetType: plan.offset_type,
      offsetValue: plan.offset_value === null ? null : String(plan.offset_value),
    })),
    stored,
  );

  return {
    property_id: query.property_id,
    start: query.start,
    end: query.end,
    rate_plans: selected.map(view),
    room_types: roomTypes,
    results: selected.flatMap((plan) =>
      roomTypes.map((roomType) => ({
        rate_plan_id: plan.id,
        room_type_id: roomType.id,
        currency: plan.currency,
        derived: plan.parent_rate_plan_id !== null,
        nights: dates.map((date) => {
          const night = book.resolve(plan.id, roomType.id, date);
          return {
            date,
            amount: night.amount,
            min_stay: night.minStay,
            max_stay: night.maxStay,
            closed_to_arrival: night.closedToArrival,
            closed_to_departure: night.closedToDeparture,
            stop_sell: night.stopSell,
            restrictions_inherited: plan.parent_rate_plan_id !== null && night.restrictionsFrom !== plan.id,
          };
        }),
      })),
    ),
  };
}
