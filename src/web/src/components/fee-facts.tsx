import { dateTime } from '../lib/dates.ts';
import { money } from '../lib/reservations.ts';
import type { Penalty, Reservation } from '../lib/types.ts';

const PENALTY_LABEL: Record<Penalty, string> = {
  none: 'no charge',
  first_night: 'first night',
  full_stay: 'full stay',
  percent: 'part of the stay',
};

/** Why one room costs what it does, in a few words. */
function reason(room: NonNullable<Reservation['fee']>['rooms'][number]): string {
  if (!room.policy) return 'no cancellation policy';
  if (room.penalty === null) return `free until ${dateTime(room.free_until)}`;
  const percent = room.policy.no_show_penalty_percent ?? room.policy.penalty_percent;
  return room.penalty === 'percent' && percent ? `${percent} % of the stay` : PENALTY_LABEL[room.penalty];
}

/** The fee a cancelled or no-show reservation incurred, as facts of the reservation panel. */
export function FeeFacts(props: { reservation: Reservation }) {
  const fee = props.reservation.fee;
  if (!fee) return null;
  return (
    <>
      <dt>{fee.kind === 'no_show' ? 'No-show fee' : 'Cancellation fee'}</dt>
      <dd>
        <span data-testid="reservation-fee">{money(fee.amount, fee.currency)}</span>{' '}
        <span class="muted" data-testid="reservation-fee-reason">
          ({[...new Set(fee.rooms.map(reason))].join('; ')}; computed {dateTime(fee.computed_at)})
        </span>
      </dd>
    </>
  );
}
