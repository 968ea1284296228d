import { useState } from 'preact/hooks';
import { describeError } from '../../lib/api.ts';
import { dateTime } from '../../lib/dates.ts';
import { usePaged } from '../../lib/hooks.ts';
import { integrations, type QuarantinedRecord } from '../../lib/integrations.ts';
import { SelectField } from '../forms.tsx';
import { PageFooter } from '../list.tsx';
import { Badge, Empty, ErrorNote, notify } from '../ui.tsx';

const REPLAY_STATES = [
  { value: 'pending', label: 'Waiting for replay' },
  { value: 'ingested', label: 'Replayed and ingested' },
  { value: 'failed', label: 'Replayed, failed again' },
];

/** Records a sync could not ingest, with their raw payload, and replay after a config fix. */
export function QuarantinePanel(props: { propertyId: string; syncRunId?: string; onClearRun: () => void }) {
  const [replayStatus, setReplayStatus] = useState('pending');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const list = usePaged<QuarantinedRecord>(
    (cursor) =>
      integrations.errors({ propertyId: props.propertyId, syncRunId: props.syncRunId, replayStatus }, cursor),
    [props.propertyId, props.syncRunId, replayStatus],
  );

  async function replay(body: { sync_run_id?: string; error_ids?: string[] }) {
    setBusy(true);
    setError(null);
    try {
      const run = await integrations.replay({ property_id: props.propertyId, ...body });
      notify(
        `Replay ${run.status}: ${run.created + run.updated} ingested, ${run.quarantined} still quarantined.`,
      );
      await list.reload();
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div>
      <div class="filters">
        <SelectField
          label="Replay state"
          value={replayStatus}
          onValue={setReplayStatus}
          options={REPLAY_STATES}
          placeholder="Any"
        />
        {props.syncRunId ? (
          <p>
            Run <code>{props.syncRunId.slice(0, 8)}</code>{' '}
            <button type="button" class="small" onClick={props.onClearRun}>
              Show all runs
            </button>
          </p>
        ) : null}
        <button
          type="button"
          disabled={busy || list.items.length === 0}
          onClick={() => replay(props.syncRunId ? { sync_run_id: props.syncRunId } : {})}
        >
          Replay {props.syncRunId ? "this run's" : 'all pending'} records
        </button>
      </div>
      <ErrorNote error={error} />
      {list.items.length === 0 && !list.loading && !list.error ? (
        <Empty>Nothing is quarantined.</Empty>
      ) : (
        <ul class="quarantine">
          {list.items.map((record) => (
            <li key={record.id} class="panel" data-testid="quarantined-record">
              <p>
                <Badge tone="bad">{record.error_type}</Badge> at <code>{record.stage}</code>
                {record.field ? (
                  <>
                    {' '}
                    on <code>{record.field}</code>
                  </>
                ) : null}{' '}
                · external id <code>{record.external_id ?? '—'}</code> · {dateTime(record.created_at)}
                {record.replay_status ? (
                  <Badge tone={record.replay_status === 'ingested' ? 'ok' : 'muted'}>
                    {record.replay_status}
                  </Badge>
                ) : null}
              </p>
              <p>{record.message}</p>
              <details>
                <summary>Raw payload</summary>
                <pre>{JSON.stringify(record.raw, null, 2)}</pre>
              </details>
              <button
                type="button"
                class="small"
                disabled={busy}
                onClick={() => replay({ error_ids: [record.id] })}
              >
                Replay this record
              </button>
            </li>
          ))}
        </ul>
      )}
      <PageFooter list={list} noun="records" />
    </div>
  );
}
