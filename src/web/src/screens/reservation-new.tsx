import { useEffect, useRef, useState } from 'preact/hooks';
import { AvailabilityView } from '../components/availability.tsx';
import { NumberField, ProblemSummary, SelectField, TextArea, TextField } from '../components/forms.tsx';
import { Link, NeedProperty, notify, PageHeader } from '../components/ui.tsx';
import { ApiError, api, describeError, listAll, post } from '../lib/api.ts';
import { addDays, isIsoDate, today } from '../lib/dates.ts';
import { useAsync, useSettled } from '../lib/hooks.ts';
import { navigate } from '../lib/router.ts';
import { currentProperty, session } from '../lib/session.ts';
import { useStore } from '../lib/store.ts';
import type { CheckResult, RatePlan, Reservation, RoomType } from '../lib/types.ts';

interface RoomLine {
  room_type_id: string;
  rate_plan_id: string;
  adults: number | '';
  children: number | '';
}

const FIELDS = ['/check_in', '/check_out', '/guest', '/rooms', '/status', '/notes'];

export function ReservationNewScreen() {
  const state = useStore(session);
  const property = currentProperty(state);
  const propertyId = property?.id ?? '';
  const catalog = useAsync(async () => {
    if (!propertyId) return { roomTypes: [] as RoomType[], ratePlans: [] as RatePlan[] };
    const [roomTypes, ratePlans] = await Promise.all([
      listAll<RoomType>(`/api/properties/${propertyId}/room-types/`),
      listAll<RatePlan>('/api/rates/plans/', { property_id: propertyId, is_active: true }),
    ]);
    return { roomTypes, ratePlans };
  }, [propertyId]);

  const [checkIn, setCheckIn] = useState(today());
  const [checkOut, setCheckOut] = useState(addDays(today(), 2));
  const [rooms, setRooms] = useState<RoomLine[]>([]);
  const [firstName, setFirstName] = useState('');
  const [lastName, setLastName] = useState('');
  const [email, setEmail] = useState('');
  const [phone, setPhone] = useState('');
  const [notes, setNotes] = useState('');
  const [status, setStatus] = useState('confirmed');
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  // One key per distinct request: a retry of the same booking is never booked twice.
  const idempotency = useRef<{ body: string; key: string } | null>(null);

  const roomTypes = catalog.data?.roomTypes ?? [];
  const ratePlans = catalog.data?.ratePlans ?? [];
  useEffect(() => {
    if (rooms.length === 0 && roomTypes.length > 0) {
      setRooms([
        { room_type_id: roomTypes[0]!.id, rate_plan_id: ratePlans[0]?.id ?? '', adults: 2, children: 0 },
      ]);
    }
  }, [roomTypes, ratePlans, rooms.length]);

  // Settled on a string: a fresh object each render would never settle.
  const stayKey = useSettled(JSON.stringify({ checkIn, checkOut, rooms }), 300);
  const availability = useAsync(async () => {
    const stay = JSON.parse(stayKey) as { checkIn: string; checkOut: string; rooms: RoomLine[] };
    if (!isIsoDate(stay.checkIn) || !isIsoDate(stay.checkOut) || stay.checkOut <= stay.checkIn) return [];
    // One check per room type and rate plan, for as many units as lines ask for.
    const groups = new Map<string, { room_type_id: string; rate_plan_id: string; units: number }>();
    for (const line of stay.rooms) {
      if (!line.room_type_id) continue;
      const key = `${line.room_type_id}|${line.rate_plan_id}`;
      const group = groups.get(key) ?? {
        room_type_id: line.room_type_id,
        rate_plan_id: line.rate_plan_id,
        units: 0,
      };
      group.units++;
      groups.set(key, group);
    }
    return Promise.all(
      [...groups.values()].map(async (group) => {
        try {
          const result = await post<CheckResult>('/api/inventory/check/', {
            room_type_id: group.room_type_id,
            check_in: stay.checkIn,
            check_out: stay.checkOut,
            units: group.units,
            rate_plan_id: group.rate_plan_id || undefined,
          });
          return { group, result, error: null };
        } catch (error) {
          return { group, result: null, error: describeError(error) };
        }
      }),
    );
  }, [stayKey]);

  function updateLine(index: number, changes: Partial<RoomLine>) {
    setRooms((lines) => lines.map((line, i) => (i === index ? { ...line, ...changes } : line)));
  }

  async function submit(event: Event) {
    event.preventDefault();
    const body = {
      property_id: propertyId,
      check_in: checkIn,
      check_out: checkOut,
      status,
      notes: notes.trim() || undefined,
      guest: {
        first_name: firstName.trim() || undefined,
        last_name: lastName.trim() || undefined,
        email: email.trim() || undefined,
        phone: phone.trim() || undefined,
      },
      rooms: rooms.map((line) => ({
        room_type_id: line.room_type_id,
        rate_plan_id: line.rate_plan_id || undefined,
        adults: line.adults === '' ? undefined : line.adults,
        children: line.children === '' ? undefined : line.children,
      })),
    };
    const text = JSON.stringify(body);
    if (idempotency.current?.body !== text) idempotency.current = { body: text, key: crypto.randomUUID() };
    setBusy(true);
    setProblem(null);
    try {
      const created = await api<Reservation>('POST', '/api/reservations/create/', {
        body,
        headers: { 'idempotency-key': idempotency.current.key },
      });
      notify(`Reservation ${created.confirmation_code} created.`);
      navigate(`/reservations/${created.id}`);
    } catch (error) {
      if (error instanceof ApiError) setProblem(error);
      else setProblem(new ApiError(0, { code: 'NETWORK', detail: describeError(error) }));
    } finally {
      setBusy(false);
    }
  }

  if (!property) return <NeedProperty />;
  const typeOptions = roomTypes.map((t) => ({ value: t.id, label: `${t.name} (${t.code})` }));
  const planOptions = ratePlans.map((p) => ({ value: p.id, label: `${p.name} (${p.code}, ${p.currency})` }));
  const bookable = (availability.data ?? []).every((a) => a.result?.available);

  return (
    <section>
      <p class="crumbs">
        <Link href="/reservations">Reservations</Link> / new
      </p>
      <PageHeader title="New reservation" subtitle={property.name} />
      <form onSubmit={submit} noValidate>
        <div class="columns">
          <div class="panel form-grid">
            <ProblemSummary problem={problem} fields={FIELDS} />
            <TextField
              label="Check-in"
              type="date"
              value={checkIn}
              onValue={setCheckIn}
              pointer="/check_in"
              problem={problem}
              required
            />
            <TextField
              label="Check-out"
              type="date"
              value={checkOut}
              onValue={setCheckOut}
              pointer="/check_out"
              problem={problem}
              required
            />
            {rooms.map((line, index) => (
              <fieldset class="full room-line" key={index}>
                <legend>Room {index + 1}</legend>
                <div class="form-grid">
                  <SelectField
                    label="Room type"
                    value={line.room_type_id}
                    onValue={(v) => updateLine(index, { room_type_id: v })}
                    options={typeOptions}
                    pointer={`/rooms/${index}/room_type_id`}
                    problem={problem}
                  />
                  <SelectField
                    label="Rate plan"
                    value={line.rate_plan_id}
                    onValue={(v) => updateLine(index, { rate_plan_id: v })}
                    options={planOptions}
                    placeholder="No rate plan"
                    pointer={`/rooms/${index}/rate_plan_id`}
                    problem={problem}
                  />
                  <NumberField
                    label="Adults"
                    value={line.adults}
                    onValue={(v) => updateLine(index, { adults: v })}
                    min={0}
                    max={20}
                    pointer={`/rooms/${index}/adults`}
                    problem={problem}
                  />
                  <NumberField
                    label="Children"
                    value={line.children}
                    onValue={(v) => updateLine(index, { children: v })}
                    min={0}
                    max={20}
                    pointer={`/rooms/${index}/children`}
                    problem={problem}
                  />
                </div>
                {rooms.length > 1 ? (
                  <button
                    type="button"
                    class="small"
                    onClick={() => setRooms((lines) => lines.filter((_, i) => i !== index))}
                  >
                    Remove room {index + 1}
                  </button>
                ) : null}
              </fieldset>
            ))}
            <div class="full">
              <button
                type="button"
                onClick={() =>
                  setRooms((lines) => [
                    ...lines,
                    {
                      ...(lines[lines.length - 1] ?? {
                        room_type_id: roomTypes[0]?.id ?? '',
                        rate_plan_id: '',
                        adults: 2,
                        children: 0,
                      }),
                    },
                  ])
                }
                disabled={roomTypes.length === 0}
              >
                Add another room
              </button>
            </div>
            <TextField
              label="First name"
              value={firstName}
              onValue={setFirstName}
              pointer="/guest/first_name"
              problem={problem}
              maxLength={100}
              autoComplete="off"
            />
            <TextField
              label="Last name"
              value={lastName}
              onValue={setLastName}
              pointer="/guest/last_name"
              problem={problem}
              maxLength={100}
              autoComplete="off"
            />
            <TextField
              label="Email"
              type="email"
              value={email}
              onValue={setEmail}
              pointer="/guest/email"
              problem={problem}
              maxLength={254}
              autoComplete="off"
            />
            <TextField
              label="Phone"
              type="tel"
              value={phone}
              onValue={setPhone}
              pointer="/guest/phone"
              problem={problem}
              maxLength={40}
              autoComplete="off"
            />
            <SelectField
              label="Status"
              value={status}
              onValue={setStatus}
              pointer="/status"
              problem={problem}
              options={[
                { value: 'confirmed', label: 'Confirmed' },
                { value: 'tentative', label: 'Tentative' },
              ]}
            />
            <TextArea
              label="Notes"
              value={notes}
              onValue={setNotes}
              pointer="/notes"
              problem={problem}
              maxLength={2000}
              rows={2}
              class="span-2"
            />
            <div class="form-actions">
              <button type="submit" class="primary" disabled={busy || rooms.length === 0}>
                {busy ? 'Booking…' : 'Create reservation'}
              </button>
            </div>
          </div>
          <aside class="panel" aria-labelledby="availability-title" aria-live="polite">
            <h2 id="availability-title">Availability and price</h2>
            {availability.loading && !availability.data ? <p class="muted">Checking…</p> : null}
            {(availability.data ?? []).length === 0 && !availability.loading ? (
              <p class="muted">Pick the dates and a room type.</p>
            ) : null}
            {(availability.data ?? []).map((entry) => (
              <AvailabilityView
                key={`${entry.group.room_type_id}|${entry.group.rate_plan_id}`}
                roomType={roomTypes.find((t) => t.id === entry.group.room_type_id)}
                ratePlan={ratePlans.find((p) => p.id === entry.group.rate_plan_id)}
                units={entry.group.units}
                result={entry.result}
                error={entry.error}
              />
            ))}
            {(availability.data ?? []).length > 0 ? (
              <p data-testid="stay-bookable" data-bookable={String(bookable)}>
                {bookable
                  ? 'Every night can be booked.'
                  : 'Some nights cannot be booked; see the reasons above.'}
              </p>
            ) : null}
          </aside>
        </div>
      </form>
    </section>
  );
}
