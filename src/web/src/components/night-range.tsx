import type { ComponentChildren } from 'preact';
import { addDays, today } from '../lib/dates.ts';

const SPANS = [14, 21, 31, 62];

/** The "From / Nights shown / Earlier · Today · Later" bar above the calendar and rates grids. */
export function NightRangeControls(props: {
  idPrefix: string;
  start: string;
  span: number;
  onStart: (start: string) => void;
  onSpan: (span: number) => void;
  /** Screen-specific actions after the paging buttons. */
  children?: ComponentChildren;
}) {
  const { idPrefix, start, span, onStart, onSpan } = props;
  return (
    <div class="filters">
      <div class="field">
        <label for={`${idPrefix}-start`}>From</label>
        <input
          id={`${idPrefix}-start`}
          type="date"
          value={start}
          onChange={(e) => onStart((e.target as HTMLInputElement).value || today())}
        />
      </div>
      <div class="field">
        <label for={`${idPrefix}-span`}>Nights shown</label>
        <select
          id={`${idPrefix}-span`}
          value={String(span)}
          onChange={(e) => onSpan(Number((e.target as HTMLSelectElement).value))}
        >
          {SPANS.map((n) => (
            <option key={n} value={String(n)}>
              {n}
            </option>
          ))}
        </select>
      </div>
      <div class="actions">
        <button type="button" onClick={() => onStart(addDays(start, -span))} aria-label="Earlier nights">
          ← Earlier
        </button>
        <button type="button" onClick={() => onStart(today())}>
          Today
        </button>
        <button type="button" onClick={() => onStart(addDays(start, span))} aria-label="Later nights">
          Later →
        </button>
        {props.children}
      </div>
    </div>
  );
}
