import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { CalendarCell, cellKey } from '../components/calendar-cell.tsx';
import { InventoryAdjust, type Selection } from '../components/inventory-adjust.tsx';
import { LiveBadge } from '../components/live.tsx';
import { NightRangeControls } from '../components/night-range.tsx';
import { ErrorNote, Loading, NeedProperty, notify, PageHeader } from '../components/ui.tsx';
import { describeError, get, listAll, post } from '../lib/api.ts';
import { addDays, nightsOf, shortDate, today, weekday, weekdayName } from '../lib/dates.ts';
import { useAsync, useDebounced } from '../lib/hooks.ts';
import { type FeedEvent, type FeedStatus, openFeed } from '../lib/realtime.ts';
import { currentProperty, isAdmin, session } from '../lib/session.ts';
import { useStore } from '../lib/store.ts';
import type { CalendarNight, RoomType } from '../lib/types.ts';

/** Writes an inventory event's nights (whole counts) into `cells`; returns the keys it changed. */
function patchCells(cells: Map<string, CalendarNight>, event: FeedEvent): Set<string> {
  const data = event.data as {
    room_type_id: string;
    nights: Array<Partial<CalendarNight> & { date: string }>;
  };
  const touched = new Set<string>();
  for (const night of data.nights) {
    const key = cellKey(data.room_type_id, night.date);
    const before = cells.get(key);
    if (!before && night.total_units === undefined) continue;
    cells.set(key, { ...(before as CalendarNight), ...night, room_type_id: data.room_type_id });
    touched.add(key);
  }
  return touched;
}

export function InventoryScreen() {
  const state = useStore(session);
  const property = currentProperty(state);
  const [start, setStart] = useState(today());
  const [span, setSpan] = useState(14);
  const end = addDays(start, span);
  const nights = useMemo(() => nightsOf(start, end), [start, end]);
  const propertyId = property?.id ?? null;

  const roomTypes = useAsync(
    () => (propertyId ? listAll<RoomType>(`/api/properties/${propertyId}/room-types/`) : Promise.resolve([])),
    [propertyId],
  );
  const [cells, setCells] = useState<Map<string, CalendarNight>>(new Map());
  const [flashed, setFlashed] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [live, setLive] = useState<{ status: FeedStatus; detail?: string }>({ status: 'connecting' });
  const [selection, setSelection] = useState<Selection | null>(null);
  const [anchor, setAnchor] = useState<{ row: number; night: number } | null>(null);

  // Live events that arrive while a calendar load is in flight are applied again on top of what it
  // returns: the load may have read the nights before their change committed, and would otherwise
  // put the old counts back over the event. Events carry whole counts in commit order, so replaying
  // one the load already saw converges on the next event. Of loads that overlap (paging quickly),
  // only the latest one started is shown: an older answer may be for another range of nights.
  const inFlight = useRef({ loads: 0, latest: 0, events: [] as FeedEvent[] });
  // Loads in flight, for `aria-busy` on the calendar.
  const [busy, setBusy] = useState(0);

  async function loadCalendar() {
    if (!propertyId) return;
    inFlight.current.loads++;
    setBusy((n) => n + 1);
    const generation = ++inFlight.current.latest;
    try {
      const calendar = await get<{ results: CalendarNight[] }>('/api/inventory/calendar/', {
        property_id: propertyId,
        start,
        end: addDays(end, -1),
      });
      const loaded = new Map(
        calendar.results.map((night) => [cellKey(night.room_type_id, night.date), night]),
      );
      if (generation !== inFlight.current.latest) return;
      for (const event of inFlight.current.events) patchCells(loaded, event);
      setCells(loaded);
      setError(null);
    } catch (caught) {
      if (generation === inFlight.current.latest) setError(describeError(caught));
    } finally {
      setLoading(false);
      setBusy((n) => n - 1);
      if (--inFlight.current.loads === 0) inFlight.current.events = [];
    }
  }

  useEffect(() => {
    setLoading(true);
    void loadCalendar();
  }, [propertyId, start, end]);

  const reloadSoon = useDebounced(() => void loadCalendar(), 300);

  // Live updates: a booking anywhere changes the cells in place, without a reload.
  useEffect(() => {
    if (!propertyId) return;
    return openFeed('inventory', propertyId, {
      onStatus: (status, detail) => setLive({ status, detail }),
      onSnapshot: () => reloadSoon(),
      onGap: () => reloadSoon(),
      onEvent: (event) => applyEvent(event),
    });
  }, [propertyId]);

  function applyEvent(event: FeedEvent) {
    const data = event.data as { room_type_id?: string; nights?: unknown };
    if (!data.room_type_id || !Array.isArray(data.nights)) {
      reloadSoon();
      return;
    }
    if (inFlight.current.loads > 0) inFlight.current.events.push(event);
    const touched = new Set<string>();
    setCells((previous) => {
      const next = new Map(previous);
      for (const key of patchCells(next, event)) touched.add(key);
      return next;
    });
    setFlashed(touched);
    window.setTimeout(() => setFlashed((current) => (current === touched ? new Set() : current)), 1500);
  }

  function pick(row: number, night: number, extend: boolean) {
    const types = roomTypes.data ?? [];
    const from = extend && anchor ? anchor : { row, night };
    if (!extend || !anchor) setAnchor({ row, night });
    const rows = [Math.min(from.row, row), Math.max(from.row, row)];
    const cols = [Math.min(from.night, night), Math.max(from.night, night)];
    setSelection({
      roomTypeIds: types.slice(rows[0]!, rows[1]! + 1).map((t) => t.id),
      startDate: nights[cols[0]!]!,
      endDate: nights[cols[1]!]!,
    });
  }

  async function preload() {
    if (!propertyId) return;
    try {
      const result = await post<{ created: number }>('/api/inventory/preload/', {
        property_id: propertyId,
        start_date: start,
        end_date: addDays(end, -1),
      });
      notify(`${result.created} nights loaded.`);
      await loadCalendar();
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  if (!property) return <NeedProperty />;
  const types = roomTypes.data ?? [];
  const admin = isAdmin(state.user);
  const missing = types.length > 0 && cells.size < types.length * nights.length;
  const selected = (roomTypeId: string, date: string) =>
    Boolean(
      selection?.roomTypeIds.includes(roomTypeId) && date >= selection.startDate && date <= selection.endDate,
    );

  return (
    <section>
      <PageHeader
        title="Inventory"
        subtitle={`${property.name}: units left to sell per room type and night, updated live as anyone books.`}
      >
        <LiveBadge status={live.status} detail={live.detail} />
      </PageHeader>
      <NightRangeControls idPrefix="inv" start={start} span={span} onStart={setStart} onSpan={setSpan}>
        {admin && missing ? (
          <button type="button" onClick={preload}>
            Load missing nights
          </button>
        ) : null}
      </NightRangeControls>
      <Legend />
      <ErrorNote error={error ?? roomTypes.error} />
      {loading && cells.size === 0 ? <Loading /> : null}
      {types.length === 0 && !roomTypes.loading ? (
        <p class="empty">This property has no room types yet.</p>
      ) : (
        <div class="grid-wrap">
          <table
            class="grid"
            aria-label="Inventory calendar"
            aria-describedby="inv-help"
            aria-busy={busy > 0 ? 'true' : 'false'}
          >
            <thead>
              <tr>
                <th scope="col">Room type</th>
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
            <tbody>
              {types.map((roomType, row) => (
                <tr key={roomType.id}>
                  <th scope="row">
                    {roomType.name}
                    <br />
                    <span class="muted">
                      {roomType.code} · {roomType.total_units} units
                    </span>
                  </th>
                  {nights.map((night, col) => {
                    const key = cellKey(roomType.id, night);
                    return (
                      <td key={night}>
                        <CalendarCell
                          roomType={roomType}
                          date={night}
                          night={cells.get(key)}
                          selected={selected(roomType.id, night)}
                          flash={flashed.has(key)}
                          onPick={(extend) => pick(row, col, extend)}
                        />
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p id="inv-help" class="muted">
        Select a cell, then Shift+click (or Shift+Enter) another to select a range of nights and room types
        {admin ? ' to adjust them below' : ''}.
      </p>
      {admin ? (
        <InventoryAdjust
          roomTypes={types}
          selection={selection}
          onSelection={setSelection}
          onApplied={(updated) => {
            setCells((previous) => {
              const next = new Map(previous);
              for (const night of updated) next.set(cellKey(night.room_type_id, night.date), night);
              return next;
            });
          }}
        />
      ) : null}
    </section>
  );
}

function Legend() {
  return (
    <p class="legend">
      <span class="sr-only">Legend:</span>
      <span>
        <span class="swatch" style="background: var(--occ-0)" /> under 25 % sold
      </span>
      <span>
        <span class="swatch" style="background: var(--occ-2)" /> 50–75 %
      </span>
      <span>
        <span class="swatch" style="background: var(--occ-4)" /> sold out
      </span>
      <span>
        <span class="mark">H2</span> held
      </span>
      <span>
        <span class="mark">OOO1</span> out of order
      </span>
      <span>
        <span class="mark">OB+1</span> overbooking allowed
      </span>
      <span>
        <span class="mark ob">+1 over</span> overbooked (imported)
      </span>
      <span>
        <span class="mark ss">STOP</span> stop-sell
      </span>
    </p>
  );
}
