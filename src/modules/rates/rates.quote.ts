import { NotFoundError, ValidationError } from '../../app/errors.ts';
import type { Db, Tx } from '../../db/database.ts';
import type { NightQuote, QuoteStay, StayQuote } from './rates.contract.ts';
import { addDays, daysBetween } from './rates.dates.ts';
import {
  addMoney,
  occupancySupplement,
  RateBook,
  stayRestrictionViolations,
  sumMoney,
} from './rates.pricing.ts';
import * as repo from './rates.repository.ts';

/** The longest stay a quote prices; longer stays are refused as bad input. */
export const MAX_STAY_NIGHTS = 730;

/**
 * A quote plus the departure date's closed-to-departure flag, which the stay's nights cannot
 * carry (the departure date is not a night of the stay). Assignable to the contract's StayQuote.
 */
export interface RatesStayQuote extends StayQuote {
  departure: { date: string; closedToDeparture: boolean };
  adults: number;
  children: number;
  /** The room type's max_occupancy: adults + children above it cannot stay in one unit. */
  maxOccupancy: number;
  /**
   * The cancellation policy a booking on this plan agrees to: the plan's own, or for a derived plan
   * without one its nearest ancestor's; `rate_plan_id` names the plan it came from. Null: none.
   */
  cancellationPolicy: (Record<string, unknown> & { rate_plan_id: string }) | null;
}

/** Default occupancy of a quote, the same as a booked room's. */
export const DEFAULT_ADULTS = 1;
export const DEFAULT_CHILDREN = 0;

/**
 * Implements the QuoteStay contract in one query (the plan's chain of parents and their rows).
 * An inactive plan is not for sale: its nights quote as stop-sell. Throws NotFoundError when the
 * plan or the room type does not belong to the property.
 */
export const quoteStay = (async (db: Db | Tx, input): Promise<RatesStayQuote> => {
  const nightCount = daysBetween(input.checkIn, input.checkOut);
  if (nightCount < 1) {
    throw new ValidationError('check_out must be after check_in.', [
      { pointer: '/check_out', message: 'must be after check_in' },
    ]);
  }
  if (nightCount > MAX_STAY_NIGHTS) {
    throw new ValidationError(`A stay can be at most ${MAX_STAY_NIGHTS} nights.`, [
      { pointer: '/check_out', message: `must be at most ${MAX_STAY_NIGHTS} nights after check_in` },
    ]);
  }
  const pricing = await repo.loadStayPricing(db, {
    propertyId: input.propertyId,
    ratePlanId: input.ratePlanId,
    roomTypeId: input.roomTypeId,
    start: input.checkIn,
    last: input.checkOut,
  });
  const plan = pricing.chain[0];
  if (!plan) throw new NotFoundError('Rate plan', input.ratePlanId);
  if (!pricing.roomTypeExists) throw new NotFoundError('Room type', input.roomTypeId);
  const adults = input.adults ?? DEFAULT_ADULTS;
  const children = input.children ?? DEFAULT_CHILDREN;
  // Extra guests are priced on the base plan's night, so derived plans apply their offset to them too.
  const base = pricing.chain[pricing.chain.length - 1]!;
  const supplement =
    base.base_occupancy === null
      ? null
      : occupancySupplement(
          {
            baseOccupancy: base.base_occupancy,
            extraAdultAmount: base.extra_adult_amount!,
            extraChildAmount: base.extra_child_amount!,
          },
          adults,
          children,
        );
  const stored =
    supplement === null
      ? pricing.nights
      : pricing.nights.map((night) =>
          night.ratePlanId === base.id ? { ...night, amount: addMoney(night.amount, supplement) } : night,
        );
  const book = new RateBook(
    pricing.chain.map((link) => ({
      id: link.id,
      parentId: link.parent_rate_plan_id,
      offsetType: link.offset_type,
      offsetValue: link.offset_value,
    })),
    stored,
  );
  const policyFrom = pricing.chain.find((link) => link.cancellation_policy !== null);
  const nights: NightQuote[] = [];
  for (let i = 0; i < nightCount; i++) {
    const date = addDays(input.checkIn, i);
    const night = book.resolve(plan.id, input.roomTypeId, date);
    nights.push({
      date,
      amount: night.amount,
      closedToArrival: night.closedToArrival,
      closedToDeparture: night.closedToDeparture,
      stopSell: night.stopSell || !plan.is_active,
      minStay: night.minStay,
      maxStay: night.maxStay,
    });
  }
  const amounts = nights.map((night) => night.amount);
  const departure = book.resolve(plan.id, input.roomTypeId, input.checkOut);
  return {
    ratePlanId: plan.id,
    roomTypeId: input.roomTypeId,
    currency: plan.currency,
    nights,
    total: amounts.every((amount) => amount !== null) ? sumMoney(amounts as string[]) : null,
    departure: { date: input.checkOut, closedToDeparture: departure.closedToDeparture },
    adults,
    children,
    maxOccupancy: pricing.maxOccupancy!,
    cancellationPolicy: policyFrom
      ? { ...policyFrom.cancellation_policy!, rate_plan_id: policyFrom.id }
      : null,
  };
}) satisfies QuoteStay;

/**
 * Why a quoted stay cannot be sold under its rate plan, night by night (same order as
 * quote.nights): STOP_SELL, CLOSED_TO_ARRIVAL, CLOSED_TO_DEPARTURE, MIN_STAY, MAX_STAY. For
 * availability checks; "no rate loaded" is quote.total === null (or a night's amount === null).
 */
export function quoteViolations(quote: StayQuote & { departure?: RatesStayQuote['departure'] }) {
  return stayRestrictionViolations(quote.nights, quote.departure);
}
