import { useState } from 'preact/hooks';
import {
  type ApiError,
  changedFields,
  del,
  describeError,
  get,
  listAll,
  type Page,
  patch,
  post,
  showProblem,
} from '../lib/api.ts';
import { useAsync, usePaged, useSettled } from '../lib/hooks.ts';
import type { HousekeepingStatus, Room, RoomStatus, RoomType } from '../lib/types.ts';
import { ProblemSummary, SelectField, TextField } from './forms.tsx';
import { PageFooter, SearchBox } from './list.tsx';
import { OutOfOrderDialog } from './out-of-order-dialog.tsx';
import { Badge, confirmAction, Dialog, Empty, ErrorNote, Link, notify } from './ui.tsx';

const STATUSES: Array<{ value: RoomStatus; label: string }> = [
  { value: 'available', label: 'Available' },
  { value: 'occupied', label: 'Occupied' },
  { value: 'dirty', label: 'Dirty' },
  { value: 'out_of_order', label: 'Out of order' },
];

const HOUSEKEEPING: Array<{ value: HousekeepingStatus; label: string }> = [
  { value: 'dirty', label: 'Dirty' },
  { value: 'clean', label: 'Clean' },
  { value: 'inspected', label: 'Inspected' },
];

const TONE: Record<RoomStatus, 'ok' | 'info' | 'warn' | 'bad'> = {
  available: 'ok',
  occupied: 'info',
  dirty: 'warn',
  out_of_order: 'bad',
};

export function RoomsPanel(props: { propertyId: string; canEdit: boolean }) {
  const [search, setSearch] = useState('');
  const [roomTypeId, setRoomTypeId] = useState('');
  const [status, setStatus] = useState('');
  const [housekeeping, setHousekeeping] = useState('');
  const [editing, setEditing] = useState<Room | 'new' | null>(null);
  const [blocking, setBlocking] = useState<Room | null>(null);
  const [error, setError] = useState<string | null>(null);
  const query = useSettled(search);
  const base = `/api/properties/${props.propertyId}/rooms/`;
  const roomTypes = useAsync(
    () => listAll<RoomType>(`/api/properties/${props.propertyId}/room-types/`),
    [props.propertyId],
  );
  const list = usePaged<Room>(
    (cursor) =>
      get<Page<Room>>(base, {
        search: query,
        room_type_id: roomTypeId,
        status,
        housekeeping_status: housekeeping,
        cursor,
      }),
    [base, query, roomTypeId, status, housekeeping],
  );
  const typeName = (id: string) => roomTypes.data?.find((t) => t.id === id)?.code ?? '…';
  const typeOptions = (roomTypes.data ?? []).map((t) => ({ value: t.id, label: `${t.code} · ${t.name}` }));

  /** Housekeeping is everyone's: the front desk and housekeeping staff mark rooms as they go. */
  async function markRoom(room: Room, next: string) {
    setError(null);
    try {
      await post<Room>(`${base}${room.id}/housekeeping/`, { housekeeping_status: next });
      notify(`Room ${room.number} is ${next}.`);
      await list.reload();
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  async function remove(room: Room) {
    if (!confirmAction(`Delete room ${room.number}?`)) return;
    try {
      await del(`${base}${room.id}/`);
      notify(`Room ${room.number} deleted.`);
      await list.reload();
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  return (
    <div>
      <div class="filters">
        <SearchBox label="Room number starts with" value={search} onValue={setSearch} />
        <SelectField
          label="Room type"
          value={roomTypeId}
          onValue={setRoomTypeId}
          options={typeOptions}
          placeholder="Any"
        />
        <SelectField label="Status" value={status} onValue={setStatus} options={STATUSES} placeholder="Any" />
        <SelectField
          label="Housekeeping"
          value={housekeeping}
          onValue={setHousekeeping}
          options={HOUSEKEEPING}
          placeholder="Any"
        />
        {props.canEdit ? (
          <button type="button" class="primary" onClick={() => setEditing('new')}>
            New room
          </button>
        ) : null}
      </div>
      <ErrorNote error={error ?? roomTypes.error} />
      {list.items.length === 0 && !list.loading ? (
        <Empty>No rooms match.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Rooms</caption>
            <thead>
              <tr>
                <th scope="col">Number</th>
                <th scope="col">Room type</th>
                <th scope="col">Floor</th>
                <th scope="col">Status</th>
                <th scope="col">Housekeeping</th>
                <th scope="col">Guest</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((room) => (
                <tr key={room.id} data-testid="room-row">
                  <td>{room.number}</td>
                  <td>{typeName(room.room_type_id)}</td>
                  <td>{room.floor ?? '—'}</td>
                  <td>
                    <Badge
                      tone={TONE[room.status]}
                      title={
                        room.out_of_order ? `Out of order until ${room.out_of_order.end_date}` : undefined
                      }
                    >
                      <span data-testid="room-status">{room.status.replaceAll('_', ' ')}</span>
                    </Badge>
                  </td>
                  <td>
                    <label class="sr-only" for={`housekeeping-${room.id}`}>
                      Housekeeping of room {room.number}
                    </label>
                    <select
                      id={`housekeeping-${room.id}`}
                      value={room.housekeeping_status}
                      onChange={(event) => markRoom(room, (event.target as HTMLSelectElement).value)}
                    >
                      {HOUSEKEEPING.map((option) => (
                        <option key={option.value} value={option.value}>
                          {option.label}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    {room.occupied_by ? (
                      <Link href={`/reservations/${room.occupied_by.reservation_id}`}>
                        {room.occupied_by.confirmation_code} (until {room.occupied_by.check_out})
                      </Link>
                    ) : (
                      <span class="muted">Vacant</span>
                    )}
                  </td>
                  <td class="row-actions">
                    <button
                      type="button"
                      onClick={() => setBlocking(room)}
                      aria-label={`Out of order: room ${room.number}`}
                    >
                      Out of order…
                    </button>
                    {props.canEdit ? (
                      <>
                        <button
                          type="button"
                          onClick={() => setEditing(room)}
                          aria-label={`Edit room ${room.number}`}
                        >
                          Edit
                        </button>
                        <button
                          type="button"
                          class="danger"
                          onClick={() => remove(room)}
                          aria-label={`Delete room ${room.number}`}
                        >
                          Delete
                        </button>
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <PageFooter list={list} noun="rooms" />
      {blocking ? (
        <OutOfOrderDialog
          base={base}
          room={blocking}
          canEdit={props.canEdit}
          onClose={() => setBlocking(null)}
          onChanged={() => list.reload()}
        />
      ) : null}
      {editing ? (
        <Dialog
          title={editing === 'new' ? 'New room' : `Edit room ${editing.number}`}
          onClose={() => setEditing(null)}
        >
          <RoomForm
            base={base}
            room={editing === 'new' ? undefined : editing}
            typeOptions={typeOptions}
            onSaved={async () => {
              setEditing(null);
              notify('Room saved.');
              await list.reload();
            }}
          />
        </Dialog>
      ) : null}
    </div>
  );
}

function RoomForm(props: {
  base: string;
  room?: Room;
  typeOptions: Array<{ value: string; label: string }>;
  onSaved: () => void;
}) {
  const existing = props.room;
  const [roomTypeId, setRoomTypeId] = useState(existing?.room_type_id ?? props.typeOptions[0]?.value ?? '');
  const [number, setNumber] = useState(existing?.number ?? '');
  const [floor, setFloor] = useState(existing?.floor ?? '');
  const [housekeeping, setHousekeeping] = useState<string>(existing?.housekeeping_status ?? 'clean');
  const [problem, setProblem] = useState<ApiError | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    let body: Record<string, unknown> = {
      room_type_id: roomTypeId,
      number: number.trim(),
      floor: floor.trim() === '' ? null : floor.trim(),
      housekeeping_status: housekeeping,
    };
    if (existing) {
      body = changedFields(existing, body);
      if (Object.keys(body).length === 0) return props.onSaved();
    }
    try {
      if (existing) await patch(`${props.base}${existing.id}/`, body);
      else await post(props.base, body);
      props.onSaved();
    } catch (error) {
      showProblem(error, setProblem);
    }
  }

  return (
    <form onSubmit={submit} class="form-grid" noValidate>
      <ProblemSummary
        problem={problem}
        fields={['/room_type_id', '/number', '/floor', '/housekeeping_status']}
      />
      <SelectField
        label="Room type"
        value={roomTypeId}
        onValue={setRoomTypeId}
        options={props.typeOptions}
        pointer="/room_type_id"
        problem={problem}
        required
      />
      <TextField
        label="Number"
        value={number}
        onValue={setNumber}
        pointer="/number"
        problem={problem}
        required
        maxLength={20}
      />
      <TextField
        label="Floor"
        value={floor}
        onValue={setFloor}
        pointer="/floor"
        problem={problem}
        maxLength={20}
      />
      <SelectField
        label="Housekeeping"
        value={housekeeping}
        onValue={setHousekeeping}
        options={HOUSEKEEPING}
        pointer="/housekeeping_status"
        problem={problem}
      />
      <div class="form-actions">
        <button type="submit" class="primary">
          {existing ? 'Save changes' : 'Create room'}
        </button>
      </div>
    </form>
  );
}
