import type { Db, Tx } from '../../db/database.ts';

/**
 * What the booking path needs from rates; implemented by rates.service.ts. Amounts are decimal
 * strings with two places (never binary floats).
 */
export interface NightQuote {
  date: string;
  /** Null when no rate is loaded for the night (the stay cannot be priced). */
  amount: string | null;
  closedToArrival: boolean;
  closedToDeparture: boolean;
  stopSell: boolean;
  minStay: number | null;
  maxStay: number | null;
}

export interface StayQuote {
  ratePlanId: string;
  roomTypeId: string;
  currency: string;
  nights: NightQuote[];
  /** Sum of the nightly amounts for one unit, or null when any night has no rate. */
  total: string | null;
}

/**
 * Prices one unit of a room type for the nights [checkIn, checkOut) on a rate plan, resolving
 * derived plans from their parent (percent or amount offset), with each night's restrictions.
 * Extra guests above the base plan's base occupancy are added to the base plan's night before
 * any derivation offset applies, so a derived plan's offset covers them too.
 * Throws NotFoundError when the plan does not exist or belongs to another property.
 */
export type QuoteStay = (
  db: Db | Tx,
  input: {
    propertyId: string;
    ratePlanId: string;
    roomTypeId: string;
    checkIn: string;
    checkOut: string;
    /** The room's occupancy (defaults 1 adult, 0 children), for plans that price extra guests. */
    adults?: number;
    children?: number;
  },
) => Promise<StayQuote>;
