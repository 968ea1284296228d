import { useMemo, useState } from 'preact/hooks';
import { NightRangeControls } from '../components/night-range.tsx';
import { RatePlanDialog } from '../components/rate-plan-dialog.tsx';
import { type RateSelection, RatesEditor } from '../components/rates-editor.tsx';
import { Badge, ErrorNote, Loading, NeedProperty, notify, PageHeader } from '../components/ui.tsx';
import { get } from '../lib/api.ts';
import { addDays, nightsOf, shortDate, today, weekday, weekdayName } from '../lib/dates.ts';
import { useAsync } from '../lib/hooks.ts';
import { currentProperty, isAdmin, session } from '../lib/session.ts';
import { useStore } from '../lib/store.ts';
import type { RateNight, RatePlan, RatesGrid } from '../lib/types.ts';

function RateCell(props: {
  night: RateNight | undefined;
  label: string;
  selected: boolean;
  testId: string;
  onPick: (extend: boolean) => void;
}) {
  const { night } = props;
  const closed = night?.stop_sell || night?.amount === null;
  const marks: string[] = [];
  if (night?.min_stay) marks.push(`min${night.min_stay}`);
  if (night?.max_stay) marks.push(`max${night.max_stay}`);
  if (night?.closed_to_arrival) marks.push('CTA');
  if (night?.closed_to_departure) marks.push('CTD');
  const describe = night
    ? `${props.label}: ${night.amount ?? 'no rate'}${marks.length ? `, ${marks.join(', ')}` : ''}${night.stop_sell ? ', stop-sell' : ''}${night.restrictions_inherited ? ', restrictions from the parent plan' : ''}`
    : `${props.label}: no rate`;
  return (
    <button
      type="button"
      class={`cell rate-cell ${closed ? 'closed' : ''} ${night?.stop_sell ? 'stop-sell' : ''} ${props.selected ? 'selected' : ''}`}
      aria-label={describe}
      aria-pressed={props.selected}
      data-testid={props.testId}
      data-amount={night?.amount ?? ''}
      onClick={(event) => props.onPick(event.shiftKey)}
      onKeyDown={(event) => {
        if (event.key === 'Enter' && event.shiftKey) {
          event.preventDefault();
          props.onPick(true);
        }
      }}
    >
      <span class="main">{night?.amount ?? '—'}</span>
      <span class="marks">
        {marks.map((mark) => (
          <span key={mark} class={`mark ${night?.restrictions_inherited ? 'inherited' : ''}`}>
            {mark}
          </span>
        ))}
        {night?.stop_sell ? <span class="mark ss">STOP</span> : null}
      </span>
    </button>
  );
}

export function RatesScreen() {
  const state = useStore(session);
  const property = currentProperty(state);
  const propertyId = property?.id ?? null;
  const [start, setStart] = useState(today());
  const [span, setSpan] = useState(14);
  const end = addDays(start, span);
  const nights = useMemo(() => nightsOf(start, end), [start, end]);
  const grid = useAsync(
    () =>
      propertyId
        ? get<RatesGrid>('/api/rates/grid/', { property_id: propertyId, start, end: addDays(end, -1) })
        : Promise.resolve(null),
    [propertyId, start, end],
  );
  const [selection, setSelection] = useState<RateSelection | null>(null);
  const [anchor, setAnchor] = useState<{ plan: string; row: number; night: number } | null>(null);
  const [editingPlan, setEditingPlan] = useState<RatePlan | 'new' | null>(null);
  const admin = isAdmin(state.user);

  if (!property) return <NeedProperty />;
  const data = grid.data;
  const rows = (_planId: string) => data?.room_types ?? [];
  const cellOf = (planId: string, roomTypeId: string, date: string) =>
    data?.results
      .find((r) => r.rate_plan_id === planId && r.room_type_id === roomTypeId)
      ?.nights.find((n) => n.date === date);

  function pick(plan: RatePlan, row: number, night: number, extend: boolean) {
    const types = rows(plan.id);
    const from = extend && anchor && anchor.plan === plan.id ? anchor : { plan: plan.id, row, night };
    if (!(extend && anchor && anchor.plan === plan.id)) setAnchor({ plan: plan.id, row, night });
    const [r0, r1] = [Math.min(from.row, row), Math.max(from.row, row)];
    const [c0, c1] = [Math.min(from.night, night), Math.max(from.night, night)];
    setSelection({
      ratePlanId: plan.id,
      roomTypeIds: types.slice(r0, r1 + 1).map((t) => t.id),
      startDate: nights[c0]!,
      endDate: nights[c1]!,
    });
  }

  const isSelected = (planId: string, roomTypeId: string, date: string) =>
    selection?.ratePlanId === planId &&
    selection.roomTypeIds.includes(roomTypeId) &&
    date >= selection.startDate &&
    date <= selection.endDate;

  return (
    <section>
      <PageHeader
        title="Rates"
        subtitle={`${property.name}: nightly amounts and restrictions per rate plan and room type.`}
      >
        {admin ? (
          <button type="button" onClick={() => setEditingPlan('new')}>
            New rate plan
          </button>
        ) : null}
      </PageHeader>
      <NightRangeControls idPrefix="rates" start={start} span={span} onStart={setStart} onSpan={setSpan} />
      <p class="legend">
        <span class="mark">min2</span> minimum stay <span class="mark">max7</span> maximum stay{' '}
        <span class="mark">CTA</span> closed to arrival <span class="mark">CTD</span> closed to departure{' '}
        <span class="mark ss">STOP</span> stop-sell <span class="mark inherited">min2</span> inherited from
        the parent plan
      </p>
      <ErrorNote error={grid.error} />
      {grid.loading && !data ? <Loading /> : null}
      {data && data.rate_plans.length === 0 ? <p class="empty">No rate plans yet.</p> : null}
      {data && data.rate_plans.length > 0 ? (
        <div class="grid-wrap">
          <table class="grid" aria-label="Rates grid">
            <thead>
              <tr>
                <th scope="col">Plan / room type</th>
                {nights.map((night) => (
                  <th
                    key={night}
                    scope="col"
                    class={weekday(night) === 0 || weekday(night) === 6 ? 'weekend' : ''}
                  >
                    {weekdayName(night)}
                    <br />
                    {shortDate(night)}
                  </th>
                ))}
              </tr>
            </thead>
            {data.rate_plans.map((plan) => (
              <tbody key={plan.id}>
                <tr class="plan-row">
                  <th scope="rowgroup" colSpan={nights.length + 1}>
                    {plan.name}{' '}
                    <span class="muted">
                      ({plan.code}, {plan.currency})
                    </span>{' '}
                    {plan.parent_rate_plan_id ? (
                      <Badge tone="info">
                        derived{' '}
                        {plan.offset_type === 'percent'
                          ? `${plan.offset_value} %`
                          : `${plan.offset_value} ${plan.currency}`}
                      </Badge>
                    ) : null}{' '}
                    {plan.is_active ? null : <Badge>inactive</Badge>}
                    {admin ? (
                      <button
                        type="button"
                        class="small"
                        onClick={() => setEditingPlan(plan)}
                        aria-label={`Edit plan ${plan.code}`}
                      >
                        Edit plan
                      </button>
                    ) : null}
                  </th>
                </tr>
                {rows(plan.id).map((roomType, row) => (
                  <tr key={roomType.id}>
                    <th scope="row">{roomType.name}</th>
                    {nights.map((night, col) => (
                      <td key={night}>
                        <RateCell
                          night={cellOf(plan.id, roomType.id, night)}
                          label={`${plan.code} ${roomType.name} ${night}`}
                          selected={isSelected(plan.id, roomType.id, night)}
                          testId={`rate-${plan.code}-${roomType.code}-${night}`}
                          onPick={(extend) => pick(plan, row, col, extend)}
                        />
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            ))}
          </table>
        </div>
      ) : null}
      {admin && data ? (
        <RatesEditor
          plans={data.rate_plans}
          roomTypes={data.room_types}
          selection={selection}
          onSelection={setSelection}
          onSaved={() => void grid.reload()}
        />
      ) : null}
      {editingPlan && propertyId ? (
        <RatePlanDialog
          propertyId={propertyId}
          currency={property.currency}
          plan={editingPlan === 'new' ? undefined : editingPlan}
          plans={data?.rate_plans ?? []}
          onClose={() => setEditingPlan(null)}
          onSaved={() => {
            setEditingPlan(null);
            notify('Rate plan saved.');
            void grid.reload();
          }}
        />
      ) : null}
    </section>
  );
}
