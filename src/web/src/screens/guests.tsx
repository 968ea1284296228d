import { useState } from 'preact/hooks';
import { ProblemSummary, SelectField, TextField } from '../components/forms.tsx';
import { PageFooter, SearchBox } from '../components/list.tsx';
import { Badge, Dialog, Empty, ErrorNote, Link, Loading, notify, PageHeader } from '../components/ui.tsx';
import { type ApiError, describeError, get, type Page, patch, post, showProblem } from '../lib/api.ts';
import { dateTime } from '../lib/dates.ts';
import { type ErasureResult, type GuestDetail, type GuestProfile, profileName } from '../lib/guests.ts';
import { useAsync, usePaged, useSettled } from '../lib/hooks.ts';
import { money, STATUS_LABEL, STATUS_TONE } from '../lib/reservations.ts';
import { isAdmin, session } from '../lib/session.ts';
import { useStore } from '../lib/store.ts';

/** Guests across the hotel group, as far as the user's properties show them (docs/admin.md). */
export function GuestsScreen() {
  const { properties } = useStore(session);
  const [search, setSearch] = useState('');
  const [propertyId, setPropertyId] = useState('');
  const query = useSettled(search.trim());
  const list = usePaged<GuestProfile>(
    (cursor) => get<Page<GuestProfile>>('/api/guests/', { search: query, property_id: propertyId, cursor }),
    [query, propertyId],
  );
  const code = (id: string) => properties.find((p) => p.id === id)?.code ?? id.slice(0, 8);

  return (
    <section>
      <PageHeader
        title="Guests"
        subtitle="One profile per guest across the hotels, found by name, e-mail or phone."
      />
      <div class="filters">
        <SearchBox label="Search name, e-mail or phone" value={search} onValue={setSearch} />
        <SelectField
          label="Stayed at"
          value={propertyId}
          onValue={setPropertyId}
          options={properties.map((p) => ({ value: p.id, label: p.name }))}
          placeholder="Any of my properties"
        />
      </div>
      {list.items.length === 0 && !list.loading ? (
        <Empty>No guests match.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Guests</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">E-mail</th>
                <th scope="col">Phone</th>
                <th scope="col" class="num">
                  Stays
                </th>
                <th scope="col">Last arrival</th>
                <th scope="col">Hotels</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((guest) => (
                <tr key={guest.id} data-testid="guest-row">
                  <td>
                    <Link href={`/guests/${guest.id}`}>{profileName(guest)}</Link>
                    {guest.erased ? (
                      <>
                        {' '}
                        <Badge tone="muted">erased</Badge>
                      </>
                    ) : null}
                  </td>
                  <td>{guest.email ?? '—'}</td>
                  <td>{guest.phone ?? '—'}</td>
                  <td class="num">{guest.stay_count}</td>
                  <td>{guest.last_check_in ?? '—'}</td>
                  <td>{guest.property_ids.map(code).join(', ') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <PageFooter list={list} noun="guests" />
    </section>
  );
}

export function GuestDetailScreen(props: { id: string }) {
  const { user, properties } = useStore(session);
  const guest = useAsync(() => get<GuestDetail>(`/api/guests/${props.id}/`), [props.id]);
  const [dialog, setDialog] = useState<'edit' | 'merge' | 'erase' | null>(null);
  const code = (id: string) => properties.find((p) => p.id === id)?.code ?? id.slice(0, 8);

  if (guest.loading && !guest.data) return <Loading />;
  const g = guest.data;
  if (!g) {
    return (
      <section>
        <ErrorNote error={guest.error} />
        <Link href="/guests">Back to guests</Link>
      </section>
    );
  }
  const closeAndReload = async (message: string) => {
    setDialog(null);
    notify(message);
    await guest.reload();
  };

  return (
    <section>
      <p class="crumbs">
        <Link href="/guests">Guests</Link> / {profileName(g)}
      </p>
      <PageHeader
        title={profileName(g)}
        subtitle={
          g.erased ? (
            <span data-testid="guest-erased">
              <Badge tone="muted">erased</Badge> on {dateTime(g.erased_at)}: personal data removed, stays kept
            </span>
          ) : (
            `${g.stay_count} ${g.stay_count === 1 ? 'stay' : 'stays'} at your properties`
          )
        }
      >
        {isAdmin(user) && !g.erased ? (
          <>
            <button type="button" onClick={() => setDialog('edit')}>
              Edit details
            </button>
            <button type="button" onClick={() => setDialog('merge')}>
              Merge a duplicate
            </button>
            <button type="button" class="danger" onClick={() => setDialog('erase')}>
              Erase personal data
            </button>
          </>
        ) : null}
      </PageHeader>
      <div class="panel">
        <dl class="facts" data-testid="guest-facts">
          <dt>Name</dt>
          <dd>{g.full_name ?? '—'}</dd>
          <dt>E-mail</dt>
          <dd>{g.email ?? '—'}</dd>
          <dt>Phone</dt>
          <dd>{g.phone ?? '—'}</dd>
          <dt>Profile since</dt>
          <dd>{dateTime(g.created_at)}</dd>
          <dt>Updated</dt>
          <dd>{dateTime(g.updated_at)}</dd>
        </dl>
      </div>
      <h2>Stays</h2>
      {g.stays.length === 0 ? (
        <Empty>No stays at your properties.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Stays of the guest</caption>
            <thead>
              <tr>
                <th scope="col">Reservation</th>
                <th scope="col">Hotel</th>
                <th scope="col">Stay</th>
                <th scope="col">Status</th>
                <th scope="col">Booked as</th>
                <th scope="col" class="num">
                  Total
                </th>
                <th scope="col">Source</th>
              </tr>
            </thead>
            <tbody>
              {g.stays.map((stay) => (
                <tr key={stay.reservation_id} data-testid="guest-stay">
                  <td>
                    <Link href={`/reservations/${stay.reservation_id}`}>{stay.confirmation_code}</Link>
                  </td>
                  <td>{code(stay.property_id)}</td>
                  <td>
                    {stay.check_in} → {stay.check_out} ({stay.nights} {stay.nights === 1 ? 'night' : 'nights'}
                    )
                  </td>
                  <td>
                    <Badge tone={STATUS_TONE[stay.status]}>{STATUS_LABEL[stay.status]}</Badge>
                  </td>
                  <td>{stay.guest_name ?? '—'}</td>
                  <td class="num">{money(stay.total_amount, stay.currency)}</td>
                  <td>{stay.source}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {dialog === 'edit' ? (
        <EditDialog
          guest={g}
          onClose={() => setDialog(null)}
          onSaved={() => closeAndReload('Guest saved.')}
        />
      ) : null}
      {dialog === 'merge' ? (
        <MergeDialog
          guest={g}
          onClose={() => setDialog(null)}
          onMerged={() => closeAndReload('Profiles merged.')}
        />
      ) : null}
      {dialog === 'erase' ? (
        <EraseDialog
          guest={g}
          onClose={() => setDialog(null)}
          onErased={(result) =>
            closeAndReload(
              `Guest erased: ${result.erased.guest_rows} booking records, ${result.erased.documents} history records, ` +
                `${result.erased.quarantined_records} quarantined records.`,
            )
          }
        />
      ) : null}
    </section>
  );
}

function EditDialog(props: { guest: GuestProfile; onClose: () => void; onSaved: () => void }) {
  const g = props.guest;
  const [first, setFirst] = useState(g.first_name ?? '');
  const [last, setLast] = useState(g.last_name ?? '');
  const [full, setFull] = useState(g.full_name ?? '');
  const [email, setEmail] = useState(g.email ?? '');
  const [phone, setPhone] = useState(g.phone ?? '');
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const value = (text: string) => (text.trim() === '' ? null : text.trim());
    const fields = {
      first_name: value(first),
      last_name: value(last),
      full_name: value(full),
      email: value(email),
      phone: value(phone),
    };
    const body = Object.fromEntries(
      Object.entries(fields).filter(([key, next]) => next !== g[key as keyof typeof fields]),
    );
    if (Object.keys(body).length === 0) return props.onClose();
    setBusy(true);
    try {
      await patch(`/api/guests/${g.id}/`, body);
      props.onSaved();
    } catch (error) {
      showProblem(error, setProblem);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={`Edit ${profileName(g)}`} onClose={props.onClose}>
      <form class="form-grid" onSubmit={submit} noValidate>
        <ProblemSummary
          problem={problem}
          fields={['/first_name', '/last_name', '/full_name', '/email', '/phone']}
        />
        <TextField
          label="First name"
          value={first}
          onValue={setFirst}
          pointer="/first_name"
          problem={problem}
          maxLength={100}
        />
        <TextField
          label="Last name"
          value={last}
          onValue={setLast}
          pointer="/last_name"
          problem={problem}
          maxLength={100}
        />
        <TextField
          label="Full name"
          value={full}
          onValue={setFull}
          pointer="/full_name"
          problem={problem}
          maxLength={200}
        />
        <TextField
          label="E-mail"
          type="email"
          value={email}
          onValue={setEmail}
          pointer="/email"
          problem={problem}
          maxLength={254}
        />
        <TextField
          label="Phone"
          value={phone}
          onValue={setPhone}
          pointer="/phone"
          problem={problem}
          maxLength={40}
        />
        <p class="muted span-2">
          Each booking keeps the details it was made with; a new e-mail or phone also finds this guest from
          now on.
        </p>
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function MergeDialog(props: { guest: GuestProfile; onClose: () => void; onMerged: () => void }) {
  const [search, setSearch] = useState('');
  const query = useSettled(search.trim());
  const [error, setError] = useState<string | null>(null);
  const candidates = useAsync(
    async () =>
      query.length < 2
        ? []
        : (await get<Page<GuestProfile>>('/api/guests/', { search: query, limit: 20 })).results.filter(
            (c) => c.id !== props.guest.id && !c.erased,
          ),
    [query],
  );

  async function merge(duplicate: GuestProfile) {
    setError(null);
    try {
      await post(`/api/guests/${props.guest.id}/merge/`, { duplicate_id: duplicate.id });
      props.onMerged();
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  return (
    <Dialog title={`Merge a duplicate into ${profileName(props.guest)}`} onClose={props.onClose} wide>
      <p class="muted">
        The duplicate's stays, e-mails and phones move to this guest, and the duplicate is removed. This
        guest's details stay; those it lacks are taken from the duplicate.
      </p>
      <div class="field">
        <label for="merge-search">Find the duplicate (name, e-mail or phone)</label>
        <input
          id="merge-search"
          type="search"
          value={search}
          maxLength={100}
          onInput={(event) => setSearch((event.target as HTMLInputElement).value)}
        />
      </div>
      <ErrorNote error={error ?? candidates.error} />
      {(candidates.data ?? []).length > 0 ? (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Possible duplicates</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">E-mail</th>
                <th scope="col">Phone</th>
                <th scope="col" class="num">
                  Stays
                </th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {(candidates.data ?? []).map((c) => (
                <tr key={c.id}>
                  <td>{profileName(c)}</td>
                  <td>{c.email ?? '—'}</td>
                  <td>{c.phone ?? '—'}</td>
                  <td class="num">{c.stay_count}</td>
                  <td>
                    <button
                      type="button"
                      onClick={() => merge(c)}
                      aria-label={`Merge ${profileName(c)} into this guest`}
                    >
                      Merge
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : query.length >= 2 && !candidates.loading ? (
        <Empty>No other guest matches.</Empty>
      ) : null}
    </Dialog>
  );
}

const CONFIRM_WORD = 'ERASE';

function EraseDialog(props: {
  guest: GuestProfile;
  onClose: () => void;
  onErased: (result: ErasureResult) => void;
}) {
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function erase(event: Event) {
    event.preventDefault();
    if (typed.trim() !== CONFIRM_WORD) return;
    setBusy(true);
    setError(null);
    try {
      props.onErased(await post<ErasureResult>(`/api/guests/${props.guest.id}/erase/`));
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={`Erase ${profileName(props.guest)}`} onClose={props.onClose}>
      <form class="form-grid" onSubmit={erase} noValidate>
        <div class="span-2">
          <p>
            This removes the guest's name, e-mail, phone and reservation notes from this profile, every
            booking record, the event and audit history, stored responses and quarantined PMS records, at
            every hotel. It cannot be undone.
          </p>
          <p class="muted">
            Reservations, nights, amounts and the inventory stay as they are. Erase the guest in the hotels'
            PMS too.
          </p>
        </div>
        <TextField
          label={`Type ${CONFIRM_WORD} to confirm`}
          value={typed}
          onValue={setTyped}
          autoComplete="off"
          class="span-2"
        />
        <ErrorNote error={error} />
        <div class="form-actions">
          <button type="button" onClick={props.onClose}>
            Keep the guest
          </button>
          <button type="submit" class="danger" disabled={busy || typed.trim() !== CONFIRM_WORD}>
            Erase for good
          </button>
        </div>
      </form>
    </Dialog>
  );
}
