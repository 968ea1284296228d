import { useState } from 'preact/hooks';
import { CheckField, CheckGroup, ProblemSummary, SelectField, TextField } from '../components/forms.tsx';
import { PageFooter, SearchBox } from '../components/list.tsx';
import { Badge, confirmAction, Dialog, Empty, ErrorNote, notify, PageHeader } from '../components/ui.tsx';
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
import { dateTime } from '../lib/dates.ts';
import { usePaged, useSettled } from '../lib/hooks.ts';
import { session } from '../lib/session.ts';
import { useStore } from '../lib/store.ts';
import type { Property, Role, User } from '../lib/types.ts';

const ROLES: Array<{ value: Role; label: string }> = [
  { value: 'STAFF', label: 'Staff' },
  { value: 'PROPERTY_ADMIN', label: 'Property administrator' },
  { value: 'SUPER_ADMIN', label: 'Super administrator' },
];

export function UsersScreen() {
  const { user: me, properties } = useStore(session);
  const [search, setSearch] = useState('');
  const [role, setRole] = useState('');
  const [propertyId, setPropertyId] = useState('');
  const [editing, setEditing] = useState<User | 'new' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const query = useSettled(search);
  const list = usePaged<User>(
    (cursor) => get<Page<User>>('/api/auth/users/', { search: query, role, property_id: propertyId, cursor }),
    [query, role, propertyId],
  );
  const propertyName = (id: string) => properties.find((p) => p.id === id)?.code ?? id.slice(0, 8);

  async function remove(user: User) {
    if (!confirmAction(`Delete user ${user.email}?`)) return;
    try {
      await del(`/api/auth/users/${user.id}/`);
      notify(`User ${user.email} deleted.`);
      await list.reload();
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  return (
    <section>
      <PageHeader title="Users" subtitle="Who can sign in, with which role, for which properties.">
        <button type="button" class="primary" onClick={() => setEditing('new')}>
          New user
        </button>
      </PageHeader>
      <div class="filters">
        <SearchBox label="Search email or name" value={search} onValue={setSearch} />
        <SelectField label="Role" value={role} onValue={setRole} options={ROLES} placeholder="Any" />
        <SelectField
          label="Property"
          value={propertyId}
          onValue={setPropertyId}
          options={properties.map((p) => ({ value: p.id, label: p.name }))}
          placeholder="Any"
        />
      </div>
      <ErrorNote error={error} />
      {list.items.length === 0 && !list.loading ? (
        <Empty>No users match.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Users</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Properties</th>
                <th scope="col">Active</th>
                <th scope="col">Last login</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((user) => (
                <tr key={user.id}>
                  <td>{user.email}</td>
                  <td>{user.full_name ?? '—'}</td>
                  <td>
                    <Badge tone="info">{user.role}</Badge>
                  </td>
                  <td>
                    {user.role === 'SUPER_ADMIN'
                      ? 'all'
                      : user.property_ids.map(propertyName).join(', ') || '—'}
                  </td>
                  <td>{user.is_active ? 'yes' : 'no'}</td>
                  <td>{dateTime(user.last_login_at)}</td>
                  <td class="row-actions">
                    <button type="button" onClick={() => setEditing(user)} aria-label={`Edit ${user.email}`}>
                      Edit
                    </button>
                    {user.id !== me?.id ? (
                      <button
                        type="button"
                        class="danger"
                        onClick={() => remove(user)}
                        aria-label={`Delete ${user.email}`}
                      >
                        Delete
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <PageFooter list={list} noun="users" />
      {editing ? (
        <Dialog
          title={editing === 'new' ? 'New user' : `Edit ${editing.email}`}
          onClose={() => setEditing(null)}
        >
          <UserForm
            user={editing === 'new' ? undefined : editing}
            me={me!}
            properties={properties}
            onSaved={async () => {
              setEditing(null);
              notify('User saved.');
              await list.reload();
            }}
          />
        </Dialog>
      ) : null}
    </section>
  );
}

function UserForm(props: { user?: User; me: User; properties: Property[]; onSaved: () => void }) {
  const existing = props.user;
  const [email, setEmail] = useState(existing?.email ?? '');
  const [fullName, setFullName] = useState(existing?.full_name ?? '');
  const [role, setRole] = useState<string>(existing?.role ?? 'STAFF');
  const [password, setPassword] = useState('');
  const [propertyIds, setPropertyIds] = useState<string[]>(existing?.property_ids ?? []);
  const [active, setActive] = useState(existing?.is_active ?? true);
  const [problem, setProblem] = useState<ApiError | null>(null);
  // A property administrator manages staff of its own properties only (the API enforces it too).
  const roleOptions = props.me.role === 'SUPER_ADMIN' ? ROLES : ROLES.filter((r) => r.value === 'STAFF');

  async function submit(event: Event) {
    event.preventDefault();
    let body: Record<string, unknown> = {
      email: email.trim(),
      full_name: fullName.trim() === '' ? null : fullName.trim(),
      role,
      // Sorted on both sides: the order of a user's properties means nothing.
      property_ids: [...propertyIds].sort(),
    };
    if (password !== '' || !existing) body.password = password;
    if (existing) {
      body.is_active = active;
      body = changedFields({ ...existing, property_ids: [...existing.property_ids].sort() }, body);
      if (Object.keys(body).length === 0) return props.onSaved();
    }
    try {
      if (existing) await patch(`/api/auth/users/${existing.id}/`, body);
      else await post('/api/auth/users/', body);
      props.onSaved();
    } catch (error) {
      showProblem(error, setProblem);
    }
  }

  return (
    <form onSubmit={submit} class="form-grid" noValidate>
      <ProblemSummary
        problem={problem}
        fields={['/email', '/full_name', '/role', '/password', '/property_ids', '/is_active']}
      />
      <TextField
        label="Email"
        type="email"
        value={email}
        onValue={setEmail}
        pointer="/email"
        problem={problem}
        required
        maxLength={254}
        autoComplete="off"
      />
      <TextField
        label="Full name"
        value={fullName}
        onValue={setFullName}
        pointer="/full_name"
        problem={problem}
        maxLength={200}
      />
      <SelectField
        label="Role"
        value={role}
        onValue={setRole}
        options={roleOptions}
        pointer="/role"
        problem={problem}
      />
      <TextField
        label={existing ? 'New password (leave empty to keep)' : 'Password'}
        type="password"
        value={password}
        onValue={setPassword}
        pointer="/password"
        problem={problem}
        required={!existing}
        maxLength={256}
        autoComplete="new-password"
        hint="At least 8 characters"
      />
      {role === 'SUPER_ADMIN' ? null : (
        <CheckGroup
          label="Properties"
          class="span-2"
          options={props.properties.map((p) => ({ value: p.id, label: `${p.name} (${p.code})` }))}
          values={propertyIds}
          onValues={setPropertyIds}
          pointer="/property_ids"
          problem={problem}
        />
      )}
      {existing ? (
        <CheckField
          label="Active (may sign in)"
          checked={active}
          onValue={setActive}
          pointer="/is_active"
          problem={problem}
        />
      ) : null}
      <div class="form-actions">
        <button type="submit" class="primary">
          {existing ? 'Save changes' : 'Create user'}
        </button>
      </div>
    </form>
  );
}
