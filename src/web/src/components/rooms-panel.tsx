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
import type { Room, RoomStatus, RoomType } from '../lib/types.ts';
import { ProblemSummary, SelectField, TextField } from './forms.tsx';
import { PageFooter, SearchBox } from './list.tsx';
import { Badge, confirmAction, Dialog, Empty, ErrorNote, notify } from './ui.tsx';

const STATUSES: Array<{ value: RoomStatus; label: string }> = [
  { value: 'available', label: 'Available' },
  { value: 'occupied', label: 'Occupied' },
  { value: 'dirty', label: 'Dirty' },
  { value: 'out_of_order', label: 'Out of order' },
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
  const [editing, setEditing] = useState<Room | 'new' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const query = useSettled(search);
  const base = `/api/properties/${props.propertyId}/rooms/`;
  const roomTypes = useAsync(
    () => listAll<RoomType>(`/api/properties/${props.propertyId}/room-types/`),
    [props.propertyId],
  );
  const list = usePaged<Room>(
    (cursor) => get<Page<Room>>(base, { search: query, room_type_id: roomTypeId, status, cursor }),
    [base, query, roomTypeId, status],
  );
  const typeName = (id: string) => roomTypes.data?.find((t) => t.id === id)?.code ?? '…';
  const typeOptions = (roomTypes.data ?? []).map((t) => ({ value: t.id, label: `${t.code} · ${t.name}` }));

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
                {props.canEdit ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {list.items.map((room) => (
                <tr key={room.id}>
                  <td>{room.number}</td>
                  <td>{typeName(room.room_type_id)}</td>
                  <td>{room.floor ?? '—'}</td>
                  <td>
                    <Badge tone={TONE[room.status]}>{room.status.replace('_', ' ')}</Badge>
                  </td>
                  {props.canEdit ? (
                    <td class="row-actions">
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
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <PageFooter list={list} noun="rooms" />
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
  const [status, setStatus] = useState<string>(existing?.status ?? 'available');
  const [problem, setProblem] = useState<ApiError | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    let body: Record<string, unknown> = {
      room_type_id: roomTypeId,
      number: number.trim(),
      floor: floor.trim() === '' ? null : floor.trim(),
      status,
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
      <ProblemSummary problem={problem} fields={['/room_type_id', '/number', '/floor', '/status']} />
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
        label="Status"
        value={status}
        onValue={setStatus}
        options={STATUSES}
        pointer="/status"
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
