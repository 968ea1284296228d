import { useState } from 'preact/hooks';
import { type ApiError, patch, post, showProblem } from '../lib/api.ts';
import type { RatePlan } from '../lib/types.ts';
import { CheckField, NumberField, ProblemSummary, SelectField, TextField } from './forms.tsx';
import { Dialog } from './ui.tsx';

const PENALTIES = [
  { value: 'none', label: 'No penalty' },
  { value: 'first_night', label: 'First night' },
  { value: 'full_stay', label: 'Full stay' },
  { value: 'percent', label: 'Percent of the stay' },
];

const FIELDS = [
  '/code',
  '/name',
  '/currency',
  '/parent_rate_plan_id',
  '/offset_type',
  '/offset_value',
  '/cancellation_policy',
  '/is_active',
];

export function RatePlanDialog(props: {
  propertyId: string;
  currency: string;
  plan?: RatePlan;
  plans: RatePlan[];
  onClose: () => void;
  onSaved: () => void;
}) {
  const existing = props.plan;
  const [code, setCode] = useState(existing?.code ?? '');
  const [name, setName] = useState(existing?.name ?? '');
  const [currency, setCurrency] = useState(existing?.currency ?? props.currency);
  const [parent, setParent] = useState(existing?.parent_rate_plan_id ?? '');
  const [offsetType, setOffsetType] = useState<string>(existing?.offset_type ?? 'percent');
  const [offsetValue, setOffsetValue] = useState(existing?.offset_value ?? '');
  const policy = existing?.cancellation_policy;
  const [freeDays, setFreeDays] = useState<number | ''>(policy ? (policy.free_until_days ?? '') : 2);
  const [penalty, setPenalty] = useState<string>(policy?.penalty ?? 'first_night');
  const [penaltyPercent, setPenaltyPercent] = useState(policy?.penalty_percent ?? '');
  const [active, setActive] = useState(existing?.is_active ?? true);
  const [problem, setProblem] = useState<ApiError | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const body: Record<string, unknown> = {
      code: code.trim(),
      name: name.trim(),
      currency: currency.trim(),
      parent_rate_plan_id: parent || null,
      offset_type: parent ? offsetType : null,
      offset_value: parent ? offsetValue.trim() : null,
      cancellation_policy: {
        free_until_days: freeDays === '' ? null : freeDays,
        penalty,
        ...(penalty === 'percent' ? { penalty_percent: penaltyPercent.trim() } : {}),
      },
      is_active: active,
    };
    try {
      if (existing) await patch(`/api/rates/plans/${existing.id}/`, body);
      else await post('/api/rates/plans/', { ...body, property_id: props.propertyId });
      props.onSaved();
    } catch (error) {
      showProblem(error, setProblem);
    }
  }

  return (
    <Dialog title={existing ? `Edit rate plan ${existing.code}` : 'New rate plan'} onClose={props.onClose}>
      <form class="form-grid" onSubmit={submit} noValidate>
        <ProblemSummary problem={problem} fields={FIELDS} />
        <TextField
          label="Code"
          value={code}
          onValue={setCode}
          pointer="/code"
          problem={problem}
          maxLength={50}
          required
        />
        <TextField
          label="Name"
          value={name}
          onValue={setName}
          pointer="/name"
          problem={problem}
          maxLength={200}
          required
        />
        <TextField
          label="Currency"
          value={currency}
          onValue={(v) => setCurrency(v.toUpperCase())}
          pointer="/currency"
          problem={problem}
          maxLength={3}
        />
        <SelectField
          label="Derived from"
          value={parent}
          onValue={setParent}
          placeholder="Nothing (own rates)"
          options={props.plans
            .filter((p) => p.id !== existing?.id)
            .map((p) => ({ value: p.id, label: `${p.name} (${p.code})` }))}
          pointer="/parent_rate_plan_id"
          problem={problem}
        />
        {parent ? (
          <>
            <SelectField
              label="Offset type"
              value={offsetType}
              onValue={setOffsetType}
              options={[
                { value: 'percent', label: 'Percent of the parent' },
                { value: 'amount', label: 'Amount added to the parent' },
              ]}
              pointer="/offset_type"
              problem={problem}
            />
            <TextField
              label="Offset"
              value={offsetValue}
              onValue={setOffsetValue}
              pointer="/offset_value"
              problem={problem}
              maxLength={14}
              hint="e.g. -10 for 10 % off"
            />
          </>
        ) : null}
        <NumberField
          label="Free cancellation until (days before arrival)"
          value={freeDays}
          onValue={setFreeDays}
          min={0}
          max={365}
          pointer="/cancellation_policy/free_until_days"
          problem={problem}
          hint="Empty: non-refundable"
        />
        <SelectField
          label="Penalty after that"
          value={penalty}
          onValue={setPenalty}
          options={PENALTIES}
          pointer="/cancellation_policy/penalty"
          problem={problem}
        />
        {penalty === 'percent' ? (
          <TextField
            label="Penalty percent"
            value={penaltyPercent}
            onValue={setPenaltyPercent}
            pointer="/cancellation_policy/penalty_percent"
            problem={problem}
            maxLength={6}
          />
        ) : null}
        <CheckField
          label="Active (bookable)"
          checked={active}
          onValue={setActive}
          pointer="/is_active"
          problem={problem}
        />
        <div class="form-actions">
          <button type="submit" class="primary">
            {existing ? 'Save plan' : 'Create plan'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
