import { Decimal } from 'decimal.js';
import { ValidationError } from '../../app/errors.ts';
import type { Db, Tx } from '../../db/database.ts';
import { nightsOf } from '../inventory/inventory.dates.ts';
import { rateReasons } from '../inventory/inventory.service.ts';
import { DEFAULT_ADULTS, DEFAULT_CHILDREN } from '../rates/rates.quote.ts';
import { quoteStay, type RatesStayQuote } from '../rates/rates.service.ts';
import { RestrictionViolatedError } from './reservation.errors.ts';
import { RatePlanRequiredError } from './reservation.front-desk.ts';

export interface RoomRequest {
  room_type_id: string;
  rate_plan_id?: string | null;
  adults?: number;
  children?: number;
  complimentary?: boolean;
}

export interface PricedRoom {
  roomTypeId: string;
  ratePlanId: string | null;
  adults: number;
  children: number;
  nightlyPrices: Array<{ date: string; amount: string }>;
  amount: string;
  complimentary: boolean;
  /** The cancellation policy the room is booked under (with the plan it came from), or null. */
  cancellationPolicy: Record<string, unknown> | null;
}

export interface PricedStay {
  rooms: PricedRoom[];
  /** The rate plans' currency, or null when no room has a rate plan (then: the property's). */
  currency: string | null;
  total: string;
}

const ZERO = '0.00';

/**
 * Prices every room of a stay from its rate plan (one quote per plan, room type and occupancy)
 * and refuses the stay when a plan's rules forbid it (RESTRICTION_VIOLATED). A room without a
 * rate plan is priced on the property's default plan, or refused (RATE_PLAN_REQUIRED) when the
 * property has none; a complimentary room is 0.00 on purpose. All priced rooms share one currency.
 */
export async function priceStay(
  db: Db | Tx,
  input: {
    propertyId: string;
    checkIn: string;
    checkOut: string;
    rooms: RoomRequest[];
    /** The property's default_rate_plan_id. */
    defaultRatePlanId: string | null;
  },
): Promise<PricedStay> {
  const planOf = (room: RoomRequest) =>
    room.complimentary ? null : (room.rate_plan_id ?? input.defaultRatePlanId);
  const unpriced = input.rooms.flatMap((room, index) =>
    !room.complimentary && !planOf(room) ? [index] : [],
  );
  if (unpriced.length > 0) throw new RatePlanRequiredError(unpriced);
  const keyOf = (room: RoomRequest) =>
    `${planOf(room)}|${room.room_type_id}|${room.adults ?? DEFAULT_ADULTS}|${room.children ?? DEFAULT_CHILDREN}`;
  const quotes = new Map<string, Promise<RatesStayQuote>>();
  for (const room of input.rooms) {
    const ratePlanId = planOf(room);
    if (!ratePlanId) continue;
    const key = keyOf(room);
    if (!quotes.has(key)) {
      quotes.set(
        key,
        quoteStay(db, {
          propertyId: input.propertyId,
          ratePlanId,
          roomTypeId: room.room_type_id,
          checkIn: input.checkIn,
          checkOut: input.checkOut,
          adults: room.adults ?? DEFAULT_ADULTS,
          children: room.children ?? DEFAULT_CHILDREN,
        }),
      );
    }
  }
  const resolved = new Map<string, RatesStayQuote>();
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
    const quote = planOf(room) ? resolved.get(keyOf(room)) : undefined;
    const nightlyPrices = quote
      ? quote.nights.map((night) => ({ date: night.date, amount: new Decimal(night.amount!).toFixed(2) }))
      : nights.map((date) => ({ date, amount: ZERO }));
    const amount = nightlyPrices.reduce((sum, night) => sum.plus(night.amount), new Decimal(0));
    total = total.plus(amount);
    return {
      roomTypeId: room.room_type_id,
      ratePlanId: planOf(room),
      adults: room.adults ?? DEFAULT_ADULTS,
      children: room.children ?? DEFAULT_CHILDREN,
      nightlyPrices,
      amount: amount.toFixed(2),
      complimentary: room.complimentary ?? false,
      cancellationPolicy: quote?.cancellationPolicy ?? null,
    };
  });
  return { rooms, currency, total: total.toFixed(2) };
}
