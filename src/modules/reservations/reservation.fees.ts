import { Decimal } from 'decimal.js';
import { DateTime } from 'luxon';

/**
 * Cancellation and no-show fees from the cancellation policy each room was booked under
 * (docs/rates.md, "Cancellation policy"). Pure: the caller passes the hotel's time zone and the
 * instant, so the rules are tested on their own, time-zone edges included.
 */

export type FeeKind = 'cancellation' | 'no_show';
export type Penalty = 'none' | 'first_night' | 'full_stay' | 'percent';

/** A policy as stored on a reservation room: the plan's policy plus the plan it came from. */
export interface BookedPolicy {
  rate_plan_id: string;
  free_until_days: number | null;
  deadline_hour?: number;
  penalty: Penalty;
  penalty_percent?: string;
  no_show_penalty?: Penalty;
  no_show_penalty_percent?: string;
  description?: string;
}

export interface FeeRoomInput {
  id: string;
  rate_plan_id: string | null;
  amount: string;
  nightly_prices: Array<{ date: string; amount: string }>;
  cancellation_policy: BookedPolicy | Record<string, unknown> | null;
}

export interface FeeRoom {
  reservation_room_id: string;
  rate_plan_id: string | null;
  /** The plan whose policy applied (a derived plan without one follows its parent's); null: no policy. */
  policy_rate_plan_id: string | null;
  policy: BookedPolicy | null;
  /** The end of the free cancellation period (UTC); null when there is none (non-refundable, no policy). */
  free_until: string | null;
  /** The penalty charged, or null when nothing is (no policy, or cancelled within the free period). */
  penalty: Penalty | null;
  amount: string;
}

export interface Fee {
  kind: FeeKind;
  amount: string;
  currency: string;
  computed_at: string;
  rooms: FeeRoom[];
}

const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });
const money = (value: Decimal.Value) => new Money(value).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);

/**
 * When free cancellation ends: `deadline_hour` o'clock (default 0, the midnight that starts the day),
 * hotel-local, on the day `free_until_days` days before arrival. A wall-clock hour that a
 * daylight-saving change skips means the first instant after the gap; one it repeats, the first
 * occurrence. Null when the policy has no free period.
 */
export function freeUntil(policy: BookedPolicy, checkIn: string, timeZone: string): DateTime | null {
  if (policy.free_until_days === null) return null;
  return DateTime.fromISO(checkIn, { zone: timeZone })
    .minus({ days: policy.free_until_days })
    .set({ hour: policy.deadline_hour ?? 0, minute: 0, second: 0, millisecond: 0 });
}

function penaltyAmount(
  penalty: Penalty,
  percent: string | undefined,
  room: Pick<FeeRoomInput, 'amount' | 'nightly_prices'>,
) {
  switch (penalty) {
    case 'none':
      return money(0);
    case 'first_night':
      return money(room.nightly_prices[0]?.amount ?? 0);
    case 'full_stay':
      return money(room.amount);
    case 'percent':
      return money(new Money(room.amount).times(percent ?? '0').dividedBy(100));
  }
}

/**
 * The fee of cancelling (or of a no-show of) a reservation at `at`, per room and summed, in the
 * reservation's currency, from the prices stored on each room. A cancellation before a room's
 * free period ends costs nothing for that room; a no-show costs the policy's no-show penalty
 * (default: its late-cancellation penalty). A room without a policy costs nothing.
 */
export function computeFee(
  kind: FeeKind,
  input: { checkIn: string; currency: string; timeZone: string; at: Date; rooms: FeeRoomInput[] },
): Fee {
  const rooms = input.rooms.map((room): FeeRoom => {
    const policy = (room.cancellation_policy as BookedPolicy | null) ?? null;
    const base = {
      reservation_room_id: room.id,
      rate_plan_id: room.rate_plan_id,
      policy_rate_plan_id: policy?.rate_plan_id ?? null,
      policy,
    };
    if (!policy) return { ...base, free_until: null, penalty: null, amount: money(0) };
    const deadline = freeUntil(policy, input.checkIn, input.timeZone);
    const free_until = deadline ? deadline.toUTC().toISO() : null;
    if (kind === 'cancellation') {
      if (deadline && input.at.getTime() < deadline.toMillis()) {
        return { ...base, free_until, penalty: null, amount: money(0) };
      }
      return {
        ...base,
        free_until,
        penalty: policy.penalty,
        amount: penaltyAmount(policy.penalty, policy.penalty_percent, room),
      };
    }
    const penalty = policy.no_show_penalty ?? policy.penalty;
    const percent = policy.no_show_penalty ? policy.no_show_penalty_percent : policy.penalty_percent;
    return { ...base, free_until, penalty, amount: penaltyAmount(penalty, percent, room) };
  });
  return {
    kind,
    amount: money(rooms.reduce((sum, room) => sum.plus(room.amount), new Money(0))),
    currency: input.currency,
    computed_at: input.at.toISOString(),
    rooms,
  };
}

/** The reservation columns that record a fee. */
export function feeColumns(fee: Fee) {
  const { amount, currency, ...detail } = fee;
  return { fee_amount: amount, fee_currency: currency, fee_policy: JSON.stringify(detail) };
}

/** The wire shape of a stored fee, or null when the reservation has none. */
export function feeView(row: {
  fee_amount: string | null;
  fee_currency: string | null;
  fee_policy: Record<string, unknown> | null;
}): Fee | null {
  if (row.fee_amount === null || row.fee_currency === null || row.fee_policy === null) return null;
  const detail = row.fee_policy as Omit<Fee, 'amount' | 'currency'>;
  return {
    kind: detail.kind,
    amount: money(row.fee_amount),
    currency: row.fee_currency,
    computed_at: detail.computed_at,
    rooms: detail.rooms,
  };
}
