import { useState } from 'preact/hooks';
import { describeError, post } from '../lib/api.ts';
import type { NightAuditResult, Property } from '../lib/types.ts';
import { ErrorNote, notify } from './ui.tsx';

/**
 * The property's business date, and for its administrators the night audit on demand (the worker
 * also runs it every few minutes): it rolls the date once the hotel's day is over.
 */
export function NightAuditPanel(props: {
  property: Property;
  canRun: boolean;
  onAudited: (businessDate: string) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<NightAuditResult | null>(null);

  async function run() {
    setBusy(true);
    setError(null);
    try {
      const audited = await post<NightAuditResult>(`/api/properties/${props.property.id}/night-audit/`);
      setResult(audited);
      props.onAudited(audited.business_date);
      notify(`Night audit of ${audited.code} done.`);
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="panel" aria-labelledby="business-date-title">
      <h2 id="business-date-title">Business date</h2>
      <p>
        <strong data-testid="business-date">{props.property.business_date}</strong>{' '}
        <span class="muted">
          the hotel's trading day: arrivals before it are no longer sold, check-in opens on the arrival day
        </span>
      </p>
      {props.canRun ? (
        <button type="button" onClick={run} disabled={busy} aria-busy={busy}>
          Run night audit
        </button>
      ) : null}
      <ErrorNote error={error} />
      {result ? (
        <p data-testid="night-audit-result" role="status">
          {result.rolled
            ? `Rolled from ${result.business_date_before} to ${result.business_date}`
            : `Business date ${result.business_date} is current`}
          , {result.no_shows.length} no-show(s)
          {result.no_shows.length > 0
            ? ` (${result.no_shows.map((n) => `${n.confirmation_code} ${n.fee_amount} ${n.fee_currency}`).join(', ')})`
            : ''}
          , {result.nights_created} night(s) loaded.
        </p>
      ) : null}
    </section>
  );
}
