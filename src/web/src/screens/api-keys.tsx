import { useState } from 'preact/hooks';
import {
  CheckField,
  CheckGroup,
  NumberField,
  ProblemSummary,
  SelectField,
  TextField,
} from '../components/forms.tsx';
import { PageFooter } from '../components/list.tsx';
import { Badge, confirmAction, Dialog, Empty, ErrorNote, notify, PageHeader } from '../components/ui.tsx';
import { type ApiError, describeError, get, type Page, post, showProblem } from '../lib/api.ts';
import { dateTime } from '../lib/dates.ts';
import { usePaged } from '../lib/hooks.ts';
import { session } from '../lib/session.ts';
import { useStore } from '../lib/store.ts';
import type { ApiKey, ApiKeyScope, Property } from '../lib/types.ts';

const SCOPES: Array<{ value: ApiKeyScope; label: string }> = [
  { value: 'search', label: 'search: availability, quotes, rates, properties and room types' },
  { value: 'book', label: 'book: holds, create, confirm, modify and cancel reservations' },
  { value: 'reservations:read', label: 'reservations:read: read reservations' },
  { value: 'events', label: 'events: the event history (replay)' },
];

/** How long a rotated-out secret keeps working, so the partner can deploy the new one. */
const GRACE = [
  { value: '0', label: 'Stop the old key now' },
  { value: '300', label: 'Keep the old key 5 minutes' },
  { value: '3600', label: 'Keep the old key 1 hour' },
  { value: '86400', label: 'Keep the old key 24 hours' },
];

function status(key: ApiKey) {
  if (key.status === 'revoked') return <Badge tone="bad">revoked</Badge>;
  if (key.status === 'expired') return <Badge tone="warn">expired</Badge>;
  if (key.previous_secret_expires_at) {
    return (
      <>
        <Badge tone="ok">active</Badge>
        <div class="muted">old secret works until {dateTime(key.previous_secret_expires_at)}</div>
      </>
    );
  }
  return <Badge tone="ok">active</Badge>;
}

export function ApiKeysScreen() {
  const { user: me, properties } = useStore(session);
  const [creating, setCreating] = useState(false);
  const [rotating, setRotating] = useState<ApiKey | null>(null);
  const [shown, setShown] = useState<ApiKey | null>(null);
  const [error, setError] = useState<string | null>(null);
  const list = usePaged<ApiKey>((cursor) => get<Page<ApiKey>>('/api/auth/api-keys/', { cursor }), []);
  const propertyName = (id: string) => properties.find((p) => p.id === id)?.code ?? id.slice(0, 8);

  async function revoke(key: ApiKey) {
    if (!confirmAction(`Revoke the key "${key.name}"? Every call made with it fails from now on.`)) return;
    setError(null);
    try {
      await post(`/api/auth/api-keys/${key.id}/revoke/`);
      notify(`Key "${key.name}" revoked.`);
      await list.reload();
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  return (
    <section>
      <PageHeader
        title="API keys"
        subtitle="Credentials of partners' systems (booking engines, channel managers): limited to scopes and properties, rate limited, every write audited under the key's name."
      >
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          New API key
        </button>
      </PageHeader>
      <ErrorNote error={error} />
      {list.items.length === 0 && !list.loading && !list.error ? (
        <Empty>No API keys yet.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Scopes</th>
                <th scope="col">Properties</th>
                <th scope="col">State</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col" class="num">
                  Limit
                </th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((key) => (
                <tr key={key.id} data-testid="api-key-row">
                  <td>
                    {key.name}
                    <div class="muted">
                      <code>{key.key_prefix.slice(0, 16)}…</code>
                    </div>
                  </td>
                  <td>{key.scopes.join(', ')}</td>
                  <td>{key.all_properties ? 'all' : key.property_ids.map(propertyName).join(', ') || '—'}</td>
                  <td>{status(key)}</td>
                  <td class="nowrap">{key.last_used_at ? dateTime(key.last_used_at) : 'never'}</td>
                  <td class="nowrap">{key.expires_at ? dateTime(key.expires_at) : 'never'}</td>
                  <td class="num">{key.rate_limit_per_minute}/min</td>
                  <td class="row-actions">
                    {key.status === 'revoked' ? null : (
                      <>
                        <button
                          type="button"
                          onClick={() => setRotating(key)}
                          aria-label={`Rotate ${key.name}`}
                        >
                          Rotate
                        </button>
                        <button
                          type="button"
                          class="danger"
                          onClick={() => revoke(key)}
                          aria-label={`Revoke ${key.name}`}
                        >
                          Revoke
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <PageFooter list={list} noun="keys" />
      {creating && me ? (
        <Dialog title="New API key" onClose={() => setCreating(false)}>
          <ApiKeyForm
            superAdmin={me.role === 'SUPER_ADMIN'}
            properties={properties}
            onCreated={async (created) => {
              setCreating(false);
              setShown(created);
              await list.reload();
            }}
          />
        </Dialog>
      ) : null}
      {rotating ? (
        <Dialog title={`Rotate ${rotating.name}`} onClose={() => setRotating(null)}>
          <RotateForm
            apiKey={rotating}
            onRotated={async (rotated) => {
              setRotating(null);
              setShown(rotated);
              await list.reload();
            }}
          />
        </Dialog>
      ) : null}
      {shown?.secret ? <SecretDialog apiKey={shown} onClose={() => setShown(null)} /> : null}
    </section>
  );
}

/** The key, shown once: the server keeps only its hash and never answers it again. */
function SecretDialog(props: { apiKey: ApiKey; onClose: () => void }) {
  const secret = props.apiKey.secret!;
  async function copy() {
    try {
      await navigator.clipboard.writeText(secret);
      notify('Key copied to the clipboard.');
    } catch {
      notify('The browser refused the clipboard; select the key and copy it.', 'bad');
    }
  }
  return (
    <Dialog title={`Key of ${props.apiKey.name}`} onClose={props.onClose}>
      <p>
        Give this key to the partner now: it is shown only this once. It is sent as{' '}
        <code>Authorization: Bearer &lt;key&gt;</code>.
      </p>
      <pre data-testid="api-key-secret">{secret}</pre>
      <div class="form-actions">
        <button type="button" onClick={copy}>
          Copy key
        </button>
        <button type="button" class="primary" onClick={props.onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}

function ApiKeyForm(props: {
  superAdmin: boolean;
  properties: Property[];
  onCreated: (key: ApiKey) => void;
}) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['search']);
  const [allProperties, setAllProperties] = useState(false);
  const [propertyIds, setPropertyIds] = useState<string[]>([]);
  const [expires, setExpires] = useState('');
  const [limit, setLimit] = useState<number | ''>(600);
  const [problem, setProblem] = useState<ApiError | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const body: Record<string, unknown> = {
      name: name.trim(),
      scopes,
      ...(allProperties ? { all_properties: true } : { property_ids: propertyIds }),
      // A day chosen in the form ends the key at the start of that day, UTC.
      ...(expires ? { expires_at: `${expires}T00:00:00Z` } : {}),
      ...(limit !== '' ? { rate_limit_per_minute: limit } : {}),
    };
    try {
      props.onCreated(await post<ApiKey>('/api/auth/api-keys/', body));
    } catch (error) {
      showProblem(error, setProblem);
    }
  }

  return (
    <form class="form-grid" onSubmit={submit} noValidate>
      <ProblemSummary
        problem={problem}
        fields={[
          '/name',
          '/scopes',
          '/property_ids',
          '/all_properties',
          '/expires_at',
          '/rate_limit_per_minute',
        ]}
      />
      <TextField
        label="Name"
        value={name}
        onValue={setName}
        pointer="/name"
        problem={problem}
        required
        maxLength={100}
        hint="Who holds it, e.g. the partner and system"
        class="span-2"
      />
      <CheckGroup
        label="Scopes"
        class="span-2"
        options={SCOPES}
        values={scopes}
        onValues={setScopes}
        pointer="/scopes"
        problem={problem}
      />
      {props.superAdmin ? (
        <CheckField
          label="All properties, present and future"
          checked={allProperties}
          onValue={setAllProperties}
          pointer="/all_properties"
          problem={problem}
          class="span-2"
        />
      ) : null}
      {allProperties ? null : (
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
      <TextField
        label="Expires on (optional)"
        type="date"
        value={expires}
        onValue={setExpires}
        pointer="/expires_at"
        problem={problem}
        hint="At 00:00 UTC that day; empty for never"
      />
      <NumberField
        label="Requests per minute"
        value={limit}
        onValue={setLimit}
        pointer="/rate_limit_per_minute"
        problem={problem}
        min={1}
        max={100000}
      />
      <div class="form-actions">
        <button type="submit" class="primary">
          Create key
        </button>
      </div>
    </form>
  );
}

function RotateForm(props: { apiKey: ApiKey; onRotated: (key: ApiKey) => void }) {
  const [grace, setGrace] = useState('0');
  const [problem, setProblem] = useState<ApiError | null>(null);
  async function submit(event: Event) {
    event.preventDefault();
    try {
      props.onRotated(
        await post<ApiKey>(`/api/auth/api-keys/${props.apiKey.id}/rotate/`, { grace_seconds: Number(grace) }),
      );
    } catch (error) {
      showProblem(error, setProblem);
    }
  }
  return (
    <form class="form-grid" onSubmit={submit} noValidate>
      <ProblemSummary problem={problem} fields={['/grace_seconds']} />
      <p class="span-2">
        The key gets a new secret, shown once. Until the partner uses it, the old one can keep working a
        little while.
      </p>
      <SelectField
        label="The old key"
        value={grace}
        onValue={setGrace}
        options={GRACE}
        pointer="/grace_seconds"
        problem={problem}
      />
      <div class="form-actions">
        <button type="submit" class="primary">
          Rotate key
        </button>
      </div>
    </form>
  );
}
