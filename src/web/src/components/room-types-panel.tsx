import { useState } from 'preact/hooks';
import {
  type ApiError,
  changedFields,
  del,
  describeError,
  get,
  type Page,
  patch,
  post,
  showProblem,
} from '../lib/api.ts';
import { usePaged, useSettled } from '../lib/hooks.ts';
import type { RoomType } from '../lib/types.ts';
import { NumberField, ProblemSummary, TextArea, TextField } from './forms.tsx';
import { PageFooter, SearchBox } from './list.tsx';
import { confirmAction, Dialog, Empty, ErrorNote, notify } from './ui.tsx';

export function RoomTypesPanel(props: { propertyId: string; canEdit: boolean }) {
  const [search, setSearch] = useState('');
  const query = useSettled(search);
  const [editing, setEditing] = useState<RoomType | 'new' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const base = `/api/properties/${props.propertyId}/room-types/`;
  const list = usePaged<RoomType>(
    (cursor) => get<Page<RoomType>>(base, { search: query, cursor }),
    [base, query],
  );

  async function remove(roomType: RoomType) {
    if (!confirmAction(`Delete room type ${roomType.code}?`)) return;
    try {
      await del(`${base}${roomType.id}/`);
      notify(`Room type ${roomType.code} deleted.`);
      await list.reload();
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  return (
    <div>
      <div class="filters">
        <SearchBox label="Search room types" value={search} onValue={setSearch} />
        {props.canEdit ? (
          <button type="button" class="primary" onClick={() => setEditing('new')}>
            New room type
          </button>
        ) : null}
      </div>
      <ErrorNote error={error} />
      {list.items.length === 0 && !list.loading ? (
        <Empty>No room types yet.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Room types</caption>
            <thead>
              <tr>
                <th scope="col">Code</th>
                <th scope="col">Name</th>
                <th scope="col" class="num">
                  Units
                </th>
                <th scope="col" class="num">
                  Max occupancy
                </th>
                {props.canEdit ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {list.items.map((roomType) => (
                <tr key={roomType.id}>
                  <td>{roomType.code}</td>
                  <td>{roomType.name}</td>
                  <td class="num">{roomType.total_units}</td>
                  <td class="num">{roomType.max_occupancy}</td>
                  {props.canEdit ? (
                    <td class="row-actions">
                      <button
                        type="button"
                        onClick={() => setEditing(roomType)}
                        aria-label={`Edit ${roomType.code}`}
                      >
                        Edit
                      </button>
                      <button
                        type="button"
                        class="danger"
                        onClick={() => remove(roomType)}
                        aria-label={`Delete ${roomType.code}`}
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
      <PageFooter list={list} noun="room types" />
      {editing ? (
        <Dialog
          title={editing === 'new' ? 'New room type' : `Edit ${editing.code}`}
          onClose={() => setEditing(null)}
        >
          <RoomTypeForm
            base={base}
            roomType={editing === 'new' ? undefined : editing}
            onSaved={async () => {
              setEditing(null);
              notify('Room type saved.');
              await list.reload();
            }}
          />
        </Dialog>
      ) : null}
    </div>
  );
}

function RoomTypeForm(props: { base: string; roomType?: RoomType; onSaved: () => void }) {
  const existing = props.roomType;
  const [code, setCode] = useState(existing?.code ?? '');
  const [name, setName] = useState(existing?.name ?? '');
  const [description, setDescription] = useState(existing?.description ?? '');
  const [units, setUnits] = useState<number | ''>(existing?.total_units ?? 10);
  const [occupancy, setOccupancy] = useState<number | ''>(existing?.max_occupancy ?? 2);
  const [problem, setProblem] = useState<ApiError | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    let body: Record<string, unknown> = {
      code: code.trim(),
      name: name.trim(),
      description: description.trim() === '' ? null : description,
      total_units: units === '' ? undefined : units,
      max_occupancy: occupancy === '' ? undefined : occupancy,
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
        fields={['/code', '/name', '/description', '/total_units', '/max_occupancy']}
      />
      <TextField
        label="Code"
        value={code}
        onValue={setCode}
        pointer="/code"
        problem={problem}
        required
        maxLength={50}
      />
      <TextField
        label="Name"
        value={name}
        onValue={setName}
        pointer="/name"
        problem={problem}
        required
        maxLength={200}
      />
      <NumberField
        label="Total units"
        value={units}
        onValue={setUnits}
        pointer="/total_units"
        problem={problem}
        min={0}
        required
      />
      <NumberField
        label="Max occupancy"
        value={occupancy}
        onValue={setOccupancy}
        pointer="/max_occupancy"
        problem={problem}
        min={1}
      />
      <TextArea
        label="Description"
        value={description}
        onValue={setDescription}
        pointer="/description"
        problem={problem}
        maxLength={2000}
        class="span-2"
      />
      <div class="form-actions">
        <button type="submit" class="primary">
          {existing ? 'Save changes' : 'Create room type'}
        </button>
      </div>
    </form>
  );
}
