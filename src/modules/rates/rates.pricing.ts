import { Decimal } from 'decimal.js';

/**
 * Pure pricing rules: how a night's amount and restrictions resolve through derived plans, and
 * which restrictions a stay breaks. No I/O, so the rules are unit-tested on their own.
 */

// Money is exact: its own Decimal with enough precision that only the final rounding rounds.
const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });

/** Derived plans may chain (a derived plan of a derived plan), at most this many levels deep. */
export const MAX_DERIVATION_DEPTH = 3;

export type OffsetType = 'percent' | 'amount';

export interface PlanPricing {
  id: string;
  parentId: string | null;
  offsetType: OffsetType | null;
  offsetValue: string | null;
}

export interface Restrictions {
  minStay: number | null;
  maxStay: number | null;
  closedToArrival: boolean;
  closedToDeparture: boolean;
  stopSell: boolean;
}

export interface StoredNight extends Restrictions {
  ratePlanId: string;
  roomTypeId: string;
  date: string;
  amount: string | null;
}

export interface ResolvedNight extends Restrictions {
  amount: string | null;
  /** The plan whose stored row supplied the restrictions, or null when no plan has a row. */
  restrictionsFrom: string | null;
}

export const NO_RESTRICTIONS: Restrictions = {
  minStay: null,
  maxStay: null,
  closedToArrival: false,
  closedToDeparture: false,
  stopSell: false,
};

/** Rounds half-up (away from zero on a tie) to 2 places: "10.005" → "10.01". */
export function roundMoney(value: Decimal.Value): string {
  return new Money(value).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
}

export function sumMoney(amounts: string[]): string {
  return roundMoney(amounts.reduce((total, amount) => total.plus(amount), new Money(0)));
}

/**
 * A derived night's amount from its parent's: percent offsets scale ("-10.00" is 10 % off),
 * amount offsets add. Each level rounds, as if the parent's amount were stored. A result below
 * zero cannot be sold, so it prices as no rate (null) rather than as a free or negative night.
 */
export function deriveAmount(parentAmount: string | null, offsetType: OffsetType, offsetValue: string) {
  if (parentAmount === null) return null;
  const parent = new Money(parentAmount);
  const derived =
    offsetType === 'percent'
      ? parent.times(new Money(100).plus(offsetValue)).dividedBy(100)
      : parent.plus(offsetValue);
  const rounded = roundMoney(derived);
  return new Money(rounded).isNegative() ? null : rounded;
}

const nightKey = (ratePlanId: string, roomTypeId: string, date: string) =>
  `${ratePlanId}|${roomTypeId}|${date}`;

function restrictionsOf(night: Restrictions): Restrictions {
  return {
    minStay: night.minStay,
    maxStay: night.maxStay,
    closedToArrival: night.closedToArrival,
    closedToDeparture: night.closedToDeparture,
    stopSell: night.stopSell,
  };
}

/**
 * Resolves nights of any plan of one property from the stored rows of that plan and its
 * ancestors. A base plan's night is its stored row. A derived plan's amount always comes from
 * its parent's resolved amount plus the offset (derived plans store no amounts); its restrictions
 * are its own row's when it has one for that night (the whole row overrides), else its parent's.
 */
export class RateBook {
  private readonly plans: Map<string, PlanPricing>;
  private readonly stored = new Map<string, StoredNight>();
  private readonly resolved = new Map<string, ResolvedNight>();

  constructor(plans: Iterable<PlanPricing>, nights: Iterable<StoredNight>) {
    this.plans = new Map([...plans].map((plan) => [plan.id, plan]));
    for (const night of nights)
      this.stored.set(nightKey(night.ratePlanId, night.roomTypeId, night.date), night);
  }

  resolve(ratePlanId: string, roomTypeId: string, date: string): ResolvedNight {
    return this.resolveAt(ratePlanId, roomTypeId, date, 0);
  }

  private resolveAt(ratePlanId: string, roomTypeId: string, date: string, depth: number): ResolvedNight {
    const key = nightKey(ratePlanId, roomTypeId, date);
    const known = this.resolved.get(key);
    if (known) return known;
    const plan = this.plans.get(ratePlanId);
    if (!plan) throw new Error(`Rate plan ${ratePlanId} is not loaded`);
    const own = this.stored.get(key);
    let night: ResolvedNight;
    if (plan.parentId === null || plan.offsetType === null || plan.offsetValue === null) {
      night = own
        ? { amount: own.amount, ...restrictionsOf(own), restrictionsFrom: ratePlanId }
        : { amount: null, ...NO_RESTRICTIONS, restrictionsFrom: null };
    } else {
      // The database forbids cycles through the service; the bound keeps a corrupt row harmless.
      if (depth > MAX_DERIVATION_DEPTH + 1) throw new Error(`Rate plan ${ratePlanId} derives too deeply`);
      const parent = this.resolveAt(plan.parentId, roomTypeId, date, depth + 1);
      const amount = deriveAmount(parent.amount, plan.offsetType, plan.offsetValue);
      night = own ? { amount, ...restrictionsOf(own), restrictionsFrom: ratePlanId } : { ...parent, amount };
    }
    this.resolved.set(key, night);
    return night;
  }
}

export type RestrictionReason =
  | 'STOP_SELL'
  | 'CLOSED_TO_ARRIVAL'
  | 'CLOSED_TO_DEPARTURE'
  | 'MIN_STAY'
  | 'MAX_STAY';

export interface QuotedNight extends Restrictions {
  date: string;
}

/**
 * The restrictions a stay breaks, per night of the stay (same order as `nights`):
 * stop-sell on any night; closed-to-arrival, min stay and max stay as set on the arrival night
 * (the common "arrival-based" reading); closed-to-departure as set on the departure date, which
 * is not a night of the stay, so it is reported on the last night. Without `departure` (the
 * departure date's restrictions) closed-to-departure is not checked.
 */
export function stayRestrictionViolations(
  nights: QuotedNight[],
  departure?: { date: string; closedToDeparture: boolean },
): { date: string; reasons: RestrictionReason[] }[] {
  const result = nights.map((night) => ({ date: night.date, reasons: [] as RestrictionReason[] }));
  const arrival = nights[0];
  if (!arrival) return result;
  const length = nights.length;
  nights.forEach((night, i) => {
    if (night.stopSell) result[i]!.reasons.push('STOP_SELL');
  });
  const first = result[0]!.reasons;
  if (arrival.closedToArrival) first.push('CLOSED_TO_ARRIVAL');
  if (arrival.minStay !== null && length < arrival.minStay) first.push('MIN_STAY');
  if (arrival.maxStay !== null && length > arrival.maxStay) first.push('MAX_STAY');
  if (departure?.closedToDeparture) result[length - 1]!.reasons.push('CLOSED_TO_DEPARTURE');
  return result;
}

export interface OccupancyRule {
  baseOccupancy: number;
  extraAdultAmount: string;
  extraChildAmount: string;
}

/**
 * What one night costs beyond the base amount for this occupancy: the base occupancy counts adults
 * first, then children; each adult beyond it adds the adult amount, each child beyond the places
 * the adults leave adds the child amount. "3.00" for 1 extra child at 3.00, "0.00" within the base.
 */
export function occupancySupplement(rule: OccupancyRule, adults: number, children: number): string {
  const extraAdults = Math.max(0, adults - rule.baseOccupancy);
  const placesLeft = Math.max(0, rule.baseOccupancy - adults);
  const extraChildren = Math.max(0, children - placesLeft);
  return roundMoney(
    new Money(rule.extraAdultAmount)
      .times(extraAdults)
      .plus(new Money(rule.extraChildAmount).times(extraChildren)),
  );
}

/** Adds a supplement to an amount (null stays null: a night without a rate has none). */
export function addMoney(amount: string | null, supplement: string): string | null {
  return amount === null ? null : roundMoney(new Money(amount).plus(supplement));
}
