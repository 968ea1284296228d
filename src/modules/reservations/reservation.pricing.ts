import { Decimal } from 'decimal.js';
import { ValidationError } from '../../app/errors.ts';
import type { Db, Tx } from '../../db/database.ts';
import { nightsOf } from '../inventory/inventory.dates.ts';
import { rateReasons } from '../inventory/inventory.service.ts';
import type { StayQuote } from '../rates/rates.contract.ts';
import { quoteStay } from '../rates/rates.service.ts';
import { RestrictionViolatedError } from './reservation.errors.ts';

export interface RoomRequest {
  room_type_id: string;
  rate_plan_id?: string | null;
  adults?: number;
  children?: number;
}

export interface PricedRoom {
  roomTypeId: string;
  ratePlanId: string | null;
  adults: number;
  children: number;
  nightlyPrices: Array<{ date: string; amount: string }>;
  amount: string;
}

export interface PricedStay {
  rooms: PricedRoom[];
  /** The rate plans' currency, or null when no room has a rate plan (then: the property's). */
  currency: string | null;
  total: string;
}

const ZERO = '0.00';

/**
 * Prices every room of a stay from its rate plan (one quote per plan and room type) and refuses
 * the stay when a plan's rules forbid it (RESTRICTION_VIOLATED). A room without a rate plan is
 * priced 0.00 in the property's currency; all priced rooms must share one currency.
 */
export async function priceStay(
  db: Db | Tx,
  input: {
    propertyId: string;
    checkIn: string;
    checkOut: string;
    rooms: RoomRequest[];
  },
): Promise<PricedStay> {
  const quotes = new Map<string, Promise<StayQuote>>();
  for (const room of input.rooms) {
    if (!room.rate_plan_id) continue;
    const key = `${room.rate_plan_id}|${room.room_type_id}`;
    if (!quotes.has(key)) {
      quotes.set(
        key,
        quoteStay(db, {
          propertyId: input.propertyId,
          ratePlanId: room.rate_plan_id,
          roomTypeId: room.room_type_id,
          checkIn: input.checkIn,
          checkOut: input.checkOut,
        }),
      );
    }
  }
  const resolved = new Map<string, StayQuote>();
  for (const [key, quote] of quotes) resolved.set(key, await quote);

  const violations: ConstructorParameters<typeof RestrictionViolatedError>[0] = [];
  const currencies = new Set<string>();
  for (const quote of resolved.values()) {
    currencies.add(quote.currency);
    rateReasons(quote).forEach((reasons, i) => {
      if (reasons.length > 0) {
        violations.push({
          room_type_id: quote.roomTypeId,
          rate_plan_id: quote.ratePlanId,
          date: quote.nights[i]!.date,
          reasons,
        });
      }
    });
  }
  if (violations.length > 0) throw new RestrictionViolatedError(violations);
  if (currencies.size > 1) {
    throw new ValidationError(
      `The rooms' rate plans use different currencies (${[...currencies].join(', ')}).`,
      [{ pointer: '/body/rooms', message: 'rate plans must share one currency' }],
    );
  }
  const currency = [...currencies][0] ?? null;
  const nights = nightsOf(input.checkIn, input.checkOut);

  let total = new Decimal(0);
  const rooms = input.rooms.map((room): PricedRoom => {
    const quote = room.rate_plan_id ? resolved.get(`${room.rate_plan_id}|${room.room_type_id}`) : undefined;
    const nightlyPrices = quote
      ? quote.nights.map((night) => ({ date: night.date, amount: new Decimal(night.amount!).toFixed(2) }))
      : nights.map((date) => ({ date, amount: ZERO }));
    const amount = nightlyPrices.reduce((sum, night) => sum.plus(night.amount), new Decimal(0));
    total = total.plus(amount);
    return {
      roomTypeId: room.room_type_id,
      ratePlanId: room.rate_plan_id ?? null,
      adults: room.adults ?? 1,
      children: room.children ?? 0,
      nightlyPrices,
      amount: amount.toFixed(2),
    };
  });
  return { rooms, currency, total: total.toFixed(2) };
}
