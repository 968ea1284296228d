import { useState } from 'preact/hooks';
import { ApiError, post, showProblem } from '../lib/api.ts';
import { daysBetween, isIsoDate } from '../lib/dates.ts';
import type { CalendarNight, RoomType } from '../lib/types.ts';
import { CheckGroup, NumberField, ProblemSummary, SelectField, TextField } from './forms.tsx';
import { notify } from './ui.tsx';
import { WEEKDAYS, WeekdayMask, weekdayMask } from './weekdays.tsx';

export interface Selection {
  roomTypeIds: string[];
  /** First and last night, both inclusive. */
  startDate: string;
  endDate: string;
}

const FIELDS = [
  '/room_type_id',
  '/start_date',
  '/end_date',
  '/days_of_week',
  '/total_units',
  '/out_of_order_units',
  '/overbooking_limit',
  '/stop_sell',
];

/** Admin adjustments of capacity, out-of-order units, overbooking limit and stop-sell over a selection. */
export function InventoryAdjust(props: {
  roomTypes: RoomType[];
  selection: Selection | null;
  onSelection: (selection: Selection) => void;
  onApplied: (nights: CalendarNight[]) => void;
}) {
  const selection = props.selection ?? { roomTypeIds: [], startDate: '', endDate: '' };
  const [total, setTotal] = useState<number | ''>('');
  const [outOfOrder, setOutOfOrder] = useState<number | ''>('');
  const [overbooking, setOverbooking] = useState<number | ''>('');
  const [stopSell, setStopSell] = useState('');
  const [days, setDays] = useState<string[]>(WEEKDAYS.map((d) => d.value));
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const update = (changes: Partial<Selection>) => props.onSelection({ ...selection, ...changes });
  const nothingToChange = total === '' && outOfOrder === '' && overbooking === '' && stopSell === '';

  async function apply(event: Event) {
    event.preventDefault();
    setProblem(null);
    if (selection.roomTypeIds.length === 0) {
      setProblem(
        new ApiError(400, {
          code: 'VALIDATION_ERROR',
          detail: 'Select at least one room type.',
          errors: [{ pointer: '/room_type_id', message: 'select at least one room type' }],
        }),
      );
      return;
    }
    const body: Record<string, unknown> = {
      start_date: selection.startDate,
      end_date: selection.endDate,
      days_of_week: weekdayMask(days),
      total_units: total === '' ? undefined : total,
      out_of_order_units: outOfOrder === '' ? undefined : outOfOrder,
      overbooking_limit: overbooking === '' ? undefined : overbooking,
      stop_sell: stopSell === '' ? undefined : stopSell === 'on',
    };
    setBusy(true);
    const updated: CalendarNight[] = [];
    try {
      for (const roomTypeId of selection.roomTypeIds) {
        const result = await post<{ results: CalendarNight[] }>('/api/inventory/adjust/', {
          ...body,
          room_type_id: roomTypeId,
        });
        updated.push(...result.results);
      }
      props.onApplied(updated);
      notify(`${updated.length} nights changed.`);
    } catch (error) {
      showProblem(error, setProblem);
      if (updated.length) props.onApplied(updated);
    } finally {
      setBusy(false);
    }
  }

  const nights =
    isIsoDate(selection.startDate) && isIsoDate(selection.endDate)
      ? daysBetween(selection.startDate, selection.endDate) + 1
      : 0;
  return (
    <form class="panel" onSubmit={apply} aria-labelledby="adjust-title" noValidate>
      <h2 id="adjust-title">Adjust nights</h2>
      <p class="muted">
        {nights > 0 && selection.roomTypeIds.length > 0
          ? `${selection.roomTypeIds.length} room type(s) × ${nights} night(s) selected. Fields left empty stay as they are.`
          : 'Pick cells in the calendar, or fill in the range here. Fields left empty stay as they are.'}
      </p>
      <div class="form-grid">
        <ProblemSummary problem={problem} fields={FIELDS} />
        <CheckGroup
          label="Room types"
          class="span-2"
          options={props.roomTypes.map((t) => ({ value: t.id, label: t.name }))}
          values={selection.roomTypeIds}
          onValues={(roomTypeIds) => update({ roomTypeIds })}
          pointer="/room_type_id"
          problem={problem}
        />
        <TextField
          label="First night"
          type="date"
          value={selection.startDate}
          onValue={(startDate) => update({ startDate })}
          pointer="/start_date"
          problem={problem}
        />
        <TextField
          label="Last night"
          type="date"
          value={selection.endDate}
          onValue={(endDate) => update({ endDate })}
          pointer="/end_date"
          problem={problem}
        />
        <WeekdayMask values={days} onValues={setDays} pointer="/days_of_week" problem={problem} />
        <NumberField
          label="Total units (capacity)"
          value={total}
          onValue={setTotal}
          min={0}
          pointer="/total_units"
          problem={problem}
        />
        <NumberField
          label="Out of order units"
          value={outOfOrder}
          onValue={setOutOfOrder}
          min={0}
          pointer="/out_of_order_units"
          problem={problem}
        />
        <NumberField
          label="Overbooking limit"
          value={overbooking}
          onValue={setOverbooking}
          min={0}
          pointer="/overbooking_limit"
          problem={problem}
        />
        <SelectField
          label="Stop-sell"
          value={stopSell}
          onValue={setStopSell}
          pointer="/stop_sell"
          problem={problem}
          options={[
            { value: '', label: 'Leave unchanged' },
            { value: 'on', label: 'Stop selling' },
            { value: 'off', label: 'Open for sale' },
          ]}
        />
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy || nothingToChange}>
            {busy ? 'Applying…' : 'Apply to selection'}
          </button>
        </div>
      </div>
    </form>
  );
}
