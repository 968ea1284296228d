import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, describeError } from '../../lib/api.ts';
import { dateTime } from '../../lib/dates.ts';
import { useAsync } from '../../lib/hooks.ts';
import { type Connection, FINISHED, integrations, type SyncRun } from '../../lib/integrations.ts';
import type { Property } from '../../lib/types.ts';
import { CheckField, NumberField, ProblemSummary, SelectField, TextField } from '../forms.tsx';
import { ErrorNote, Loading, notify } from '../ui.tsx';
import { RunStatusBadge } from './run-status.tsx';
import { RunCounts } from './runs-panel.tsx';
import { ValueMapsPanel } from './value-maps-panel.tsx';

interface SecretLine {
  name: string;
  value: string;
}

const FIELDS = [
  '/pms_type',
  '/version',
  '/base_url',
  '/hotel_external_id',
  '/secrets',
  '/schedule_seconds',
  '/enabled',
];

export function ConnectionPanel(props: { property: Property; onShowRun: (id: string) => void }) {
  const propertyId = props.property.id;
  const configs = useAsync(() => integrations.configs(), []);
  const connection = useAsync(async () => {
    try {
      return await integrations.connection(propertyId);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  }, [propertyId]);

  if (connection.loading && connection.data === undefined) return <Loading />;
  return (
    <>
      <div class="columns">
        <ConnectionForm
          key={`${propertyId}:${connection.data?.id ?? 'new'}`}
          propertyId={propertyId}
          connection={connection.data ?? null}
          configs={(configs.data?.results ?? []).map((c) => ({
            value: `${c.pms_type}@${c.version}`,
            label: `${c.pms_type} ${c.version}`,
          }))}
          onSaved={(saved) => connection.setData(saved)}
          error={connection.error}
        />
        <SyncNow
          propertyId={propertyId}
          connection={connection.data ?? null}
          onShowRun={props.onShowRun}
          onFinished={() => void connection.reload()}
        />
      </div>
      {connection.data ? (
        <ValueMapsPanel
          key={`${connection.data.id}:${connection.data.pms_type}@${connection.data.version}`}
          connection={connection.data}
          onSaved={(saved) => connection.setData(saved)}
        />
      ) : null}
    </>
  );
}

function ConnectionForm(props: {
  propertyId: string;
  connection: Connection | null;
  configs: Array<{ value: string; label: string }>;
  onSaved: (connection: Connection) => void;
  error: string | null;
}) {
  const existing = props.connection;
  const [config, setConfig] = useState(existing ? `${existing.pms_type}@${existing.version}` : '');
  const [baseUrl, setBaseUrl] = useState(existing?.base_url ?? 'https://');
  const [hotelId, setHotelId] = useState(existing?.hotel_external_id ?? '');
  const [schedule, setSchedule] = useState<number | ''>(existing?.schedule_seconds ?? 300);
  const [enabled, setEnabled] = useState(existing?.enabled ?? true);
  const [secrets, setSecrets] = useState<SecretLine[]>(
    existing?.secret_names.length
      ? existing.secret_names.map((name) => ({ name, value: '' }))
      : [{ name: 'api_token', value: '' }],
  );
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function save(event: Event) {
    event.preventDefault();
    const [pmsType, version] = config.split('@');
    const filled = secrets.filter((s) => s.name.trim() !== '' && s.value !== '');
    const body: Record<string, unknown> = {
      pms_type: pmsType ?? '',
      version: version ?? '',
      base_url: baseUrl.trim(),
      hotel_external_id: hotelId.trim(),
      schedule_seconds: schedule === '' ? undefined : schedule,
      enabled,
    };
    // Secrets are write-only: an empty value keeps the stored one (they are never shown).
    if (filled.length > 0) body.secrets = Object.fromEntries(filled.map((s) => [s.name.trim(), s.value]));
    setBusy(true);
    setProblem(null);
    try {
      props.onSaved(await integrations.saveConnection(props.propertyId, body));
      notify('Connection saved.');
      setSecrets((lines) => lines.map((line) => ({ ...line, value: '' })));
    } catch (error) {
      if (error instanceof ApiError) setProblem(error);
      else setProblem(new ApiError(0, { code: 'NETWORK', detail: describeError(error) }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="panel" onSubmit={save} aria-labelledby="connection-title" noValidate>
      <h2 id="connection-title">{existing ? 'Connection' : 'Connect this hotel to its PMS'}</h2>
      <ErrorNote error={props.error} />
      <div class="form-grid">
        <ProblemSummary problem={problem} fields={FIELDS} />
        <SelectField
          label="PMS config"
          value={config}
          onValue={setConfig}
          options={props.configs}
          placeholder="Choose a PMS and version"
          pointer="/version"
          problem={problem}
        />
        <TextField
          label="Base URL"
          type="url"
          value={baseUrl}
          onValue={setBaseUrl}
          pointer="/base_url"
          problem={problem}
          maxLength={2000}
        />
        <TextField
          label="Hotel id at the PMS"
          value={hotelId}
          onValue={setHotelId}
          pointer="/hotel_external_id"
          problem={problem}
          maxLength={200}
        />
        <NumberField
          label="Sync every (seconds)"
          value={schedule}
          onValue={setSchedule}
          min={60}
          pointer="/schedule_seconds"
          problem={problem}
        />
        <CheckField
          label="Scheduled syncs enabled"
          checked={enabled}
          onValue={setEnabled}
          pointer="/enabled"
          problem={problem}
        />
        <fieldset class="full">
          <legend>
            Secrets (write-only: giving any value replaces the whole set; leave all empty to keep the stored
            ones)
          </legend>
          {secrets.map((line, index) => (
            <div class="form-grid" key={index}>
              <TextField
                label={`Secret ${index + 1} name`}
                value={line.name}
                onValue={(name) => setSecrets((all) => all.map((s, i) => (i === index ? { ...s, name } : s)))}
                maxLength={100}
                pointer={`/secrets/${line.name}`}
                problem={problem}
              />
              <TextField
                label={`Secret ${index + 1} value`}
                type="password"
                value={line.value}
                onValue={(value) =>
                  setSecrets((all) => all.map((s, i) => (i === index ? { ...s, value } : s)))
                }
                maxLength={2000}
                autoComplete="new-password"
                placeholder={existing?.secret_names.includes(line.name) ? 'stored (unchanged)' : ''}
              />
            </div>
          ))}
          <button
            type="button"
            class="small"
            onClick={() => setSecrets((all) => [...all, { name: '', value: '' }])}
          >
            Add a secret
          </button>
        </fieldset>
        {existing ? (
          <dl class="facts full">
            <dt>Cursor</dt>
            <dd>
              <code>{existing.cursor ?? '—'}</code>
            </dd>
            <dt>Next scheduled run</dt>
            <dd>{dateTime(existing.next_run_at)}</dd>
            <dt>Last run</dt>
            <dd>
              {existing.last_run ? `${existing.last_run.status} ${dateTime(existing.last_run.at)}` : 'never'}
            </dd>
          </dl>
        ) : null}
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save connection'}
          </button>
        </div>
      </div>
    </form>
  );
}

/** "Sync now": queues a run and follows it until it finishes, showing its counts as they grow. */
function SyncNow(props: {
  propertyId: string;
  connection: Connection | null;
  onShowRun: (id: string) => void;
  onFinished: () => void;
}) {
  const [run, setRun] = useState<SyncRun | null>(null);
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);

  function follow(id: string) {
    timer.current = window.setTimeout(async () => {
      try {
        const latest = await integrations.run(id);
        setRun(latest);
        if (FINISHED.includes(latest.status)) props.onFinished();
        else follow(id);
      } catch (caught) {
        setError(describeError(caught));
      }
    }, 700);
  }

  async function start() {
    setError(null);
    try {
      const queued = await integrations.sync(props.propertyId);
      setRun(queued);
      if (!FINISHED.includes(queued.status)) follow(queued.id);
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  const active = run !== null && !FINISHED.includes(run.status);
  return (
    <aside class="panel" aria-labelledby="sync-title">
      <h2 id="sync-title">Sync now</h2>
      <p class="muted">
        Fetches what changed at the PMS since the cursor and upserts it into the reservations.
      </p>
      <button type="button" class="primary" onClick={start} disabled={!props.connection || active}>
        {active ? 'Syncing…' : 'Sync now'}
      </button>
      <ErrorNote error={error} />
      {run ? (
        <div class="sync-progress" aria-live="polite" data-testid="sync-progress">
          <p>
            <RunStatusBadge status={run.status} />{' '}
            {run.started_at ? `started ${dateTime(run.started_at)}` : 'queued'}
          </p>
          {active ? (
            <div
              class="progress"
              role="progressbar"
              aria-label="Sync in progress"
              aria-valuetext={`${run.fetched} fetched`}
            >
              <span style={{ width: `${Math.min(95, 10 + run.fetched / 10)}%` }} />
            </div>
          ) : null}
          <RunCounts run={run} />
          {run.error ? <p class="error-note">{run.error}</p> : null}
          <button type="button" class="small" onClick={() => props.onShowRun(run.id)}>
            Show in runs
          </button>
        </div>
      ) : null}
    </aside>
  );
}
