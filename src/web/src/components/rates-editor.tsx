import { useState } from 'preact/hooks';
import { type ApiError, put, showProblem } from '../lib/api.ts';
import type { RatePlan } from '../lib/types.ts';
import { CheckField, CheckGroup, NumberField, ProblemSummary, SelectField, TextField } from './forms.tsx';
import { notify } from './ui.tsx';
import { WEEKDAYS, WeekdayMask, weekdayMask } from './weekdays.tsx';

export interface RateSelection {
  ratePlanId: string;
  roomTypeIds: string[];
  /** First and last night, both inclusive. */
  startDate: string;
  endDate: string;
}

const TRISTATE = [
  { value: '', label: 'Leave unchanged' },
  { value: 'on', label: 'Yes' },
  { value: 'off', label: 'No' },
];

const FIELDS = [
  '/rate_plan_id',
  '/room_type_ids',
  '/start_date',
  '/end_date',
  '/days_of_week',
  '/amount',
  '/min_stay',
  '/max_stay',
  '/closed_to_arrival',
  '/closed_to_departure',
  '/stop_sell',
  '/follow_parent',
];

const tri = (value: string) => (value === '' ? undefined : value === 'on');

/** Bulk edit of daily rates: one PUT /api/rates/daily/ over a range, optionally on some weekdays only. */
export function RatesEditor(props: {
  plans: RatePlan[];
  roomTypes: Array<{ id: string; code: string; name: string }>;
  selection: RateSelection | null;
  onSelection: (selection: RateSelection) => void;
  onSaved: () => void;
}) {
  const selection = props.selection ?? {
    ratePlanId: props.plans[0]?.id ?? '',
    roomTypeIds: [],
    startDate: '',
    endDate: '',
  };
  const [amount, setAmount] = useState('');
  const [minStay, setMinStay] = useState<number | ''>('');
  const [maxStay, setMaxStay] = useState<number | ''>('');
  const [clearStays, setClearStays] = useState(false);
  const [cta, setCta] = useState('');
  const [ctd, setCtd] = useState('');
  const [stopSell, setStopSell] = useState('');
  const [followParent, setFollowParent] = useState(false);
  const [days, setDays] = useState<string[]>(WEEKDAYS.map((d) => d.value));
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const plan = props.plans.find((p) => p.id === selection.ratePlanId);
  const update = (changes: Partial<RateSelection>) => props.onSelection({ ...selection, ...changes });

  async function save(event: Event) {
    event.preventDefault();
    const body: Record<string, unknown> = {
      rate_plan_id: selection.ratePlanId,
      room_type_ids: selection.roomTypeIds.length ? selection.roomTypeIds : undefined,
      start_date: selection.startDate,
      end_date: selection.endDate,
      days_of_week: weekdayMask(days),
    };
    if (followParent) body.follow_parent = true;
    else {
      Object.assign(body, {
        amount: amount.trim() === '' ? undefined : amount.trim(),
        min_stay: clearStays ? null : minStay === '' ? undefined : minStay,
        max_stay: clearStays ? null : maxStay === '' ? undefined : maxStay,
        closed_to_arrival: tri(cta),
        closed_to_departure: tri(ctd),
        stop_sell: tri(stopSell),
      });
    }
    setBusy(true);
    setProblem(null);
    try {
      const result = await put<{ changed: number; nights: number }>('/api/rates/daily/', body);
      notify(`${result.changed} cells changed over ${result.nights} nights.`);
      props.onSaved();
    } catch (error) {
      showProblem(error, setProblem);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="panel" onSubmit={save} aria-labelledby="rates-edit-title" noValidate>
      <h2 id="rates-edit-title">Set rates and restrictions</h2>
      <p class="muted">
        Select cells in the grid (click, then Shift+click), or fill in the range. Fields left empty stay as
        they are.
      </p>
      <div class="form-grid">
        <ProblemSummary problem={problem} fields={FIELDS} />
        <SelectField
          label="Rate plan"
          value={selection.ratePlanId}
          onValue={(ratePlanId) => update({ ratePlanId })}
          options={props.plans.map((p) => ({ value: p.id, label: `${p.name} (${p.code})` }))}
          pointer="/rate_plan_id"
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
        <CheckGroup
          label="Room types (none ticked: all)"
          class="span-2"
          options={props.roomTypes.map((t) => ({ value: t.id, label: t.name }))}
          values={selection.roomTypeIds}
          onValues={(roomTypeIds) => update({ roomTypeIds })}
          pointer="/room_type_ids"
          problem={problem}
        />
        <WeekdayMask values={days} onValues={setDays} pointer="/days_of_week" problem={problem} />
        {plan?.parent_rate_plan_id ? (
          <CheckField
            label="Follow the parent plan again on these nights (drops this plan's own restrictions)"
            checked={followParent}
            onValue={setFollowParent}
            pointer="/follow_parent"
            problem={problem}
            class="span-2"
          />
        ) : null}
        {followParent ? null : (
          <>
            {plan?.parent_rate_plan_id ? null : (
              <TextField
                label={`Amount per night${plan ? ` (${plan.currency})` : ''}`}
                value={amount}
                onValue={setAmount}
                pointer="/amount"
                problem={problem}
                maxLength={13}
                placeholder="e.g. 129.00"
              />
            )}
            <NumberField
              label="Minimum stay"
              value={minStay}
              onValue={setMinStay}
              min={1}
              max={365}
              pointer="/min_stay"
              problem={problem}
              disabled={clearStays}
            />
            <NumberField
              label="Maximum stay"
              value={maxStay}
              onValue={setMaxStay}
              min={1}
              max={365}
              pointer="/max_stay"
              problem={problem}
              disabled={clearStays}
            />
            <CheckField
              label="Remove minimum and maximum stay"
              checked={clearStays}
              onValue={setClearStays}
            />
            <SelectField
              label="Closed to arrival"
              value={cta}
              onValue={setCta}
              options={TRISTATE}
              pointer="/closed_to_arrival"
              problem={problem}
            />
            <SelectField
              label="Closed to departure"
              value={ctd}
              onValue={setCtd}
              options={TRISTATE}
              pointer="/closed_to_departure"
              problem={problem}
            />
            <SelectField
              label="Stop-sell"
              value={stopSell}
              onValue={setStopSell}
              options={TRISTATE}
              pointer="/stop_sell"
              problem={problem}
            />
          </>
        )}
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Apply to range'}
          </button>
        </div>
      </div>
    </form>
  );
}
