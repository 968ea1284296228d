import { shortDate, weekdayName } from '../lib/dates.ts';
import { money, REASON_TEXT } from '../lib/reservations.ts';
import type { CheckResult, RatePlan, RoomType } from '../lib/types.ts';
import { Badge } from './ui.tsx';

/** The answer of /api/inventory/check/: each night bookable or why not, and the quote. */
export function AvailabilityView(props: {
  roomType: RoomType | undefined;
  ratePlan: RatePlan | undefined;
  units: number;
  result: CheckResult | null;
  error: string | null;
}) {
  const { result } = props;
  return (
    <div class="availability" data-testid="availability">
      <h3>
        {props.roomType?.name ?? 'Room type'} × {props.units}
        {props.ratePlan ? ` · ${props.ratePlan.code}` : ''}{' '}
        {result ? (
          <Badge tone={result.available ? 'ok' : 'bad'}>
            {result.available ? 'available' : 'not bookable'}
          </Badge>
        ) : null}
      </h3>
      {props.error ? <p class="error-note">{props.error}</p> : null}
      {result ? (
        <>
          <ul class="nights" aria-label="Nights">
            {result.nights.map((night, i) => {
              const price = result.quote?.nightly[i]?.amount;
              return (
                <li
                  key={night.date}
                  class={`night ${night.bookable ? '' : 'no'}`}
                  data-testid={`night-${night.date}`}
                >
                  <strong>
                    {weekdayName(night.date)} {shortDate(night.date)}
                  </strong>
                  {night.bookable
                    ? `${night.available_units} left`
                    : night.reasons.map((r) => REASON_TEXT[r] ?? r).join(', ')}
                  {price !== undefined ? (
                    <span class="muted"> · {money(price, result.quote!.currency)}</span>
                  ) : null}
                </li>
              );
            })}
          </ul>
          {result.quote ? (
            <p class="quote" data-testid="quote-total">
              Total {money(result.quote.total, result.quote.currency)}
              {result.quote.units > 1 ? ` for ${result.quote.units} rooms` : ''}
            </p>
          ) : (
            <p class="muted">No rate plan chosen: the stay is not priced.</p>
          )}
        </>
      ) : null}
    </div>
  );
}
