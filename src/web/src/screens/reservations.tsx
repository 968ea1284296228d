import { useEffect, useState } from 'preact/hooks';
import { SelectField, TextField } from '../components/forms.tsx';
import { PageFooter } from '../components/list.tsx';
import { LiveBadge } from '../components/live.tsx';
import { Badge, Empty, Link, NeedProperty, PageHeader } from '../components/ui.tsx';
import { get, type Page } from '../lib/api.ts';
import { dateTime } from '../lib/dates.ts';
import { useDebounced, usePaged, useSettled } from '../lib/hooks.ts';
import { type FeedEvent, type FeedStatus, openFeed } from '../lib/realtime.ts';
import { guestName, money, STATUS_LABEL, STATUS_TONE } from '../lib/reservations.ts';
import { navigate, setQuery, useLocation } from '../lib/router.ts';
import { currentProperty, session } from '../lib/session.ts';
import { useStore } from '../lib/store.ts';
import type { Reservation, ReservationStatus } from '../lib/types.ts';

const STATUS_OPTIONS = (Object.keys(STATUS_LABEL) as ReservationStatus[]).map((value) => ({
  value,
  label: STATUS_LABEL[value],
}));

interface FeedEntry {
  id: string;
  time: string;
  text: string;
  reservationId?: string;
  /** From the snapshot (recent changes), not from a live event. */
  recent?: boolean;
}

const EVENT_VERB: Record<string, string> = {
  'pms.reservation.created': 'New',
  'pms.reservation.cancelled': 'Cancelled',
  'pms.reservation.modified': 'Changed',
};

type FeedReservation = Partial<Reservation> & { guest_name?: string | null };

function describeEvent(event: FeedEvent): FeedEntry {
  const reservation = (event.data.reservation ?? event.data) as FeedReservation;
  const verb = EVENT_VERB[event.type] ?? event.type;
  const who = reservation.guest_name ?? guestName(reservation.guest);
  const code = reservation.confirmation_code ?? '';
  const stay = reservation.check_in ? ` ${reservation.check_in} → ${reservation.check_out}` : '';
  const status = reservation.status ? ` (${STATUS_LABEL[reservation.status] ?? reservation.status})` : '';
  return {
    id: event.id,
    time: event.time ?? new Date().toISOString(),
    text: `${verb} ${code} · ${who}${stay}${status}`,
    reservationId: reservation.id,
  };
}

export function ReservationsScreen() {
  const state = useStore(session);
  const property = currentProperty(state);
  const { query } = useLocation();
  const [status, setStatus] = useState(query.get('status') ?? '');
  const [guest, setGuest] = useState(query.get('guest') ?? '');
  const [arrivalFrom, setArrivalFrom] = useState(query.get('arrival_from') ?? '');
  const [arrivalTo, setArrivalTo] = useState(query.get('arrival_to') ?? '');
  const [source, setSource] = useState(query.get('source') ?? '');
  const guestQuery = useSettled(guest);
  const sourceQuery = useSettled(source);
  const propertyId = property?.id;
  const [feed, setFeed] = useState<FeedEntry[]>([]);
  const [live, setLive] = useState<{ status: FeedStatus; detail?: string }>({ status: 'connecting' });

  useEffect(() => {
    setQuery({
      status,
      guest: guestQuery,
      arrival_from: arrivalFrom,
      arrival_to: arrivalTo,
      source: sourceQuery,
    });
  }, [status, guestQuery, arrivalFrom, arrivalTo, sourceQuery]);

  const list = usePaged<Reservation>(
    (cursor) =>
      propertyId
        ? get<Page<Reservation>>('/api/reservations/', {
            property_id: propertyId,
            status: status ? [status] : undefined,
            guest: guestQuery.trim() || undefined,
            arrival_from: arrivalFrom,
            arrival_to: arrivalTo,
            source: sourceQuery.trim() || undefined,
            cursor,
            limit: 50,
          })
        : Promise.resolve({ results: [], next_cursor: null }),
    [propertyId, status, guestQuery, arrivalFrom, arrivalTo, sourceQuery],
  );
  const reloadSoon = useDebounced(() => void list.reload(), 400);

  useEffect(() => {
    if (!propertyId) return;
    setFeed([]);
    return openFeed('reservations', propertyId, {
      onStatus: (value, detail) => setLive({ status: value, detail }),
      onGap: () => reloadSoon(),
      onSnapshot: (data) => {
        const recent = ((data as { reservations?: FeedReservation[] } | null)?.reservations ?? []).slice(
          0,
          15,
        );
        setFeed((entries) =>
          entries.some((e) => !e.recent)
            ? entries
            : recent.map((r) => ({
                id: `recent-${r.id}`,
                time: r.updated_at ?? new Date().toISOString(),
                text: `${r.confirmation_code} · ${r.guest_name ?? guestName(r.guest)} ${r.check_in} → ${r.check_out} (${STATUS_LABEL[r.status as ReservationStatus] ?? r.status})`,
                reservationId: r.id,
                recent: true,
              })),
        );
      },
      onEvent: (event) => {
        setFeed((entries) =>
          [
            describeEvent(event),
            ...entries.filter(
              (e) =>
                !e.recent || e.reservationId !== (event.data.reservation as FeedReservation | undefined)?.id,
            ),
          ].slice(0, 50),
        );
        reloadSoon();
      },
    });
  }, [propertyId, reloadSoon]);

  if (!property) return <NeedProperty />;
  return (
    <section>
      <PageHeader title="Reservations" subtitle={property.name}>
        <LiveBadge status={live.status} detail={live.detail} />
        <button type="button" class="primary" onClick={() => navigate('/reservations/new')}>
          New reservation
        </button>
      </PageHeader>
      <div class="columns">
        <div>
          <div class="filters">
            <TextField
              label="Guest, email, phone or code"
              type="search"
              value={guest}
              onValue={setGuest}
              maxLength={100}
            />
            <SelectField
              label="Status"
              value={status}
              onValue={setStatus}
              options={STATUS_OPTIONS}
              placeholder="Any"
            />
            <TextField label="Arriving from" type="date" value={arrivalFrom} onValue={setArrivalFrom} />
            <TextField label="Arriving until" type="date" value={arrivalTo} onValue={setArrivalTo} />
            <TextField
              label="Source"
              value={source}
              onValue={setSource}
              maxLength={100}
              placeholder="direct, pms:…"
            />
          </div>
          {list.items.length === 0 && !list.loading && !list.error ? (
            <Empty>No reservations match.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="sr-only">Reservations</caption>
                <thead>
                  <tr>
                    <th scope="col">Code</th>
                    <th scope="col">Guest</th>
                    <th scope="col">Arrival</th>
                    <th scope="col">Departure</th>
                    <th scope="col" class="num">
                      Nights
                    </th>
                    <th scope="col">Status</th>
                    <th scope="col">Source</th>
                    <th scope="col" class="num">
                      Total
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.items.map((reservation) => (
                    <tr key={reservation.id} data-testid="reservation-row">
                      <td>
                        <Link href={`/reservations/${reservation.id}`}>{reservation.confirmation_code}</Link>
                      </td>
                      <td>{guestName(reservation.guest)}</td>
                      <td class="nowrap">{reservation.check_in}</td>
                      <td class="nowrap">{reservation.check_out}</td>
                      <td class="num">{reservation.nights}</td>
                      <td>
                        <Badge tone={STATUS_TONE[reservation.status]}>
                          {STATUS_LABEL[reservation.status]}
                        </Badge>
                      </td>
                      <td>{reservation.source}</td>
                      <td class="num">{money(reservation.total_amount, reservation.currency)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <PageFooter list={list} noun="reservations" />
        </div>
        <aside class="panel" aria-labelledby="feed-title">
          <h2 id="feed-title">Live activity</h2>
          {feed.length === 0 ? (
            <p class="muted">Bookings, changes and cancellations appear here as they happen.</p>
          ) : (
            <ul class="feed" aria-live="polite" data-testid="live-feed">
              {feed.map((entry) => (
                <li key={entry.id} class={entry.recent ? 'recent' : 'new'}>
                  <time dateTime={entry.time}>{dateTime(entry.time)}</time>
                  {entry.reservationId ? (
                    <Link href={`/reservations/${entry.reservationId}`}>{entry.text}</Link>
                  ) : (
                    entry.text
                  )}
                </li>
              ))}
            </ul>
          )}
        </aside>
      </div>
    </section>
  );
}
