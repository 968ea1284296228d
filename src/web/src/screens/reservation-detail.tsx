import { useState } from 'preact/hooks';
import { AuditHistory } from '../components/audit-history.tsx';
import { DepartureDialog } from '../components/departure-dialog.tsx';
import { FeeFacts } from '../components/fee-facts.tsx';
import { GuestDialog } from '../components/guest-dialog.tsx';
import { ModifyDialog } from '../components/modify-dialog.tsx';
import { Badge, confirmAction, ErrorNote, Link, Loading, notify, PageHeader } from '../components/ui.tsx';
import { describeError, get, listAll, post } from '../lib/api.ts';
import { dateTime } from '../lib/dates.ts';
import { useAsync } from '../lib/hooks.ts';
import {
  ACTION_LABEL,
  allowedActions,
  canModify,
  guestName,
  type LifecycleAction,
  money,
  STATUS_LABEL,
  STATUS_TONE,
} from '../lib/reservations.ts';
import { isAdmin, session } from '../lib/session.ts';
import { useStore } from '../lib/store.ts';
import type { RatePlan, Reservation, Room, RoomType } from '../lib/types.ts';

export function ReservationDetailScreen(props: { id: string }) {
  const { user } = useStore(session);
  const reservation = useAsync(() => get<Reservation>(`/api/reservations/${props.id}/`), [props.id]);
  const propertyId = reservation.data?.property_id;
  const catalog = useAsync(async () => {
    if (!propertyId) return null;
    const [roomTypes, ratePlans, rooms] = await Promise.all([
      listAll<RoomType>(`/api/properties/${propertyId}/room-types/`),
      listAll<RatePlan>('/api/rates/plans/', { property_id: propertyId }),
      listAll<Room>(`/api/properties/${propertyId}/rooms/`),
    ]);
    return { roomTypes, ratePlans, rooms };
  }, [propertyId]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [modifying, setModifying] = useState(false);
  const [editing, setEditing] = useState<'departure' | 'guest' | null>(null);
  const [historyVersion, setHistoryVersion] = useState(0);

  async function act(action: LifecycleAction) {
    const r = reservation.data;
    if (!r) return;
    if (
      (action === 'cancel' || action === 'no-show') &&
      !confirmAction(`${ACTION_LABEL[action]} ${r.confirmation_code}?`)
    )
      return;
    setBusy(true);
    setError(null);
    try {
      reservation.setData(await post<Reservation>(`/api/reservations/${r.id}/${action}/`));
      setHistoryVersion((v) => v + 1);
      notify(`${r.confirmation_code}: ${ACTION_LABEL[action].toLowerCase()} done.`);
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  }

  async function assign(reservationRoomId: string, roomId: string) {
    const r = reservation.data;
    if (!r) return;
    setError(null);
    try {
      reservation.setData(
        await post<Reservation>(`/api/reservations/${r.id}/assign-room/`, {
          reservation_room_id: reservationRoomId,
          room_id: roomId || null,
        }),
      );
      setHistoryVersion((v) => v + 1);
      notify('Room assignment saved.');
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  if (reservation.loading && !reservation.data) return <Loading />;
  const r = reservation.data;
  if (!r) {
    return (
      <section>
        <ErrorNote error={reservation.error} />
        <Link href="/reservations">Back to reservations</Link>
      </section>
    );
  }
  const typeName = (id: string) => catalog.data?.roomTypes.find((t) => t.id === id)?.name ?? '…';
  const planName = (id: string | null) =>
    id ? (catalog.data?.ratePlans.find((p) => p.id === id)?.code ?? '…') : '—';

  return (
    <section>
      <p class="crumbs">
        <Link href="/reservations">Reservations</Link> / {r.confirmation_code}
      </p>
      <PageHeader
        title={`${r.confirmation_code} · ${guestName(r.guest)}`}
        subtitle={
          <span>
            <Badge tone={STATUS_TONE[r.status]}>
              <span data-testid="reservation-status">{STATUS_LABEL[r.status]}</span>
            </Badge>{' '}
            {r.check_in} → {r.check_out} ({r.nights} nights)
          </span>
        }
      >
        {allowedActions(r).map((action) => (
          <button
            key={action}
            type="button"
            class={action === 'cancel' || action === 'no-show' ? 'danger' : ''}
            disabled={busy}
            onClick={() => act(action)}
          >
            {ACTION_LABEL[action]}
          </button>
        ))}
        {canModify(r) ? (
          <button type="button" onClick={() => setModifying(true)} disabled={busy}>
            Change dates
          </button>
        ) : null}
        {r.status === 'checked_in' && r.source === 'direct' ? (
          <button type="button" onClick={() => setEditing('departure')} disabled={busy}>
            Extend or shorten
          </button>
        ) : null}
        {r.source === 'direct' ? (
          <button type="button" onClick={() => setEditing('guest')} disabled={busy}>
            Edit guest
          </button>
        ) : null}
      </PageHeader>
      <ErrorNote error={error} />
      <div class="columns">
        <div>
          <div class="panel">
            <dl class="facts">
              <dt>Guest</dt>
              <dd>{guestName(r.guest)}</dd>
              <dt>Email</dt>
              <dd>{r.guest?.email ?? '—'}</dd>
              <dt>Phone</dt>
              <dd>{r.guest?.phone ?? '—'}</dd>
              <dt>Total</dt>
              <dd data-testid="reservation-total">{money(r.total_amount, r.currency)}</dd>
              <dt>Source</dt>
              <dd>
                {r.source}
                {r.external_id ? ` (${r.external_id})` : ''}
              </dd>
              <dt>Notes</dt>
              <dd>{r.notes ?? '—'}</dd>
              <dt>Created</dt>
              <dd>{dateTime(r.created_at)}</dd>
              <dt>Updated</dt>
              <dd>
                {dateTime(r.updated_at)} (version {r.version})
              </dd>
              {r.cancelled_at ? (
                <>
                  <dt>Cancelled</dt>
                  <dd>{dateTime(r.cancelled_at)}</dd>
                </>
              ) : null}
              <FeeFacts reservation={r} />
            </dl>
          </div>
          <h2>Rooms</h2>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Room type</th>
                  <th scope="col">Rate plan</th>
                  <th scope="col">Guests</th>
                  <th scope="col">Nightly</th>
                  <th scope="col" class="num">
                    Amount
                  </th>
                  <th scope="col">Room</th>
                </tr>
              </thead>
              <tbody>
                {r.rooms.map((room, index) => (
                  <tr key={room.id}>
                    <td>{typeName(room.room_type_id)}</td>
                    <td>{planName(room.rate_plan_id)}</td>
                    <td>
                      {room.adults} adults, {room.children} children
                    </td>
                    <td>
                      {room.nightly_prices.map((n) => `${n.date.slice(5)}: ${n.amount}`).join(' · ') || '—'}
                    </td>
                    <td class="num">
                      {money(room.amount, r.currency)}
                      {room.complimentary ? ' (complimentary)' : ''}
                    </td>
                    <td>
                      <label class="sr-only" for={`assign-${index}`}>
                        Room for line {index + 1}
                      </label>
                      <select
                        id={`assign-${index}`}
                        value={room.room_id ?? ''}
                        disabled={
                          r.status === 'cancelled' || r.status === 'no_show' || r.status === 'checked_out'
                        }
                        onChange={(event) => assign(room.id, (event.target as HTMLSelectElement).value)}
                      >
                        <option value="">Unassigned</option>
                        {(catalog.data?.rooms ?? [])
                          .filter((candidate) => candidate.room_type_id === room.room_type_id)
                          .map((candidate) => (
                            <option key={candidate.id} value={candidate.id}>
                              {candidate.number}
                              {candidate.id !== room.room_id && candidate.status !== 'available'
                                ? ` (${candidate.status.replaceAll('_', ' ')})`
                                : ''}
                            </option>
                          ))}
                      </select>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
        <aside class="panel" aria-labelledby="history-title">
          <h2 id="history-title">History</h2>
          {isAdmin(user) ? (
            <AuditHistory entityType="reservation" entityId={r.id} version={historyVersion + r.version} />
          ) : (
            <p class="muted">The change history is visible to property administrators.</p>
          )}
        </aside>
      </div>
      {modifying ? (
        <ModifyDialog
          reservation={r}
          onClose={() => setModifying(false)}
          onSaved={(saved) => {
            reservation.setData(saved);
            setModifying(false);
            setHistoryVersion((v) => v + 1);
            notify(`${saved.confirmation_code}: dates changed.`);
          }}
        />
      ) : null}
      {editing === 'departure' ? (
        <DepartureDialog
          reservation={r}
          onClose={() => setEditing(null)}
          onSaved={(saved) => {
            reservation.setData(saved);
            setEditing(null);
            setHistoryVersion((v) => v + 1);
            notify(`${saved.confirmation_code}: leaves on ${saved.check_out}.`);
          }}
        />
      ) : null}
      {editing === 'guest' ? (
        <GuestDialog
          reservation={r}
          onClose={() => setEditing(null)}
          onSaved={(saved) => {
            reservation.setData(saved);
            setEditing(null);
            setHistoryVersion((v) => v + 1);
            notify(`${saved.confirmation_code}: guest details saved.`);
          }}
        />
      ) : null}
    </section>
  );
}
