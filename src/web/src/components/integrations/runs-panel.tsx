import { dateTime } from '../../lib/dates.ts';
import { usePaged } from '../../lib/hooks.ts';
import { integrations, type SyncRun } from '../../lib/integrations.ts';
import { PageFooter } from '../list.tsx';
import { Empty } from '../ui.tsx';
import { RunStatusBadge } from './run-status.tsx';

export function RunCounts(props: { run: SyncRun }) {
  const { run } = props;
  return (
    <dl class="facts counts">
      <dt>Fetched</dt>
      <dd>{run.fetched}</dd>
      <dt>Created</dt>
      <dd>{run.created}</dd>
      <dt>Updated</dt>
      <dd>{run.updated}</dd>
      <dt>Unchanged</dt>
      <dd>{run.unchanged}</dd>
      <dt>Quarantined</dt>
      <dd>{run.quarantined}</dd>
    </dl>
  );
}

function duration(run: SyncRun): string {
  if (!run.started_at || !run.finished_at) return '—';
  const ms = new Date(run.finished_at).getTime() - new Date(run.started_at).getTime();
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function RunsPanel(props: {
  propertyId: string;
  highlight?: string;
  onQuarantine: (runId: string) => void;
}) {
  const list = usePaged<SyncRun>((cursor) => integrations.runs(props.propertyId, cursor), [props.propertyId]);
  return (
    <div>
      <div class="filters">
        <button type="button" onClick={() => void list.reload()}>
          Refresh
        </button>
      </div>
      {list.items.length === 0 && !list.loading && !list.error ? (
        <Empty>No sync runs yet.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Sync runs</caption>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Trigger</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Fetched
                </th>
                <th scope="col" class="num">
                  Created
                </th>
                <th scope="col" class="num">
                  Updated
                </th>
                <th scope="col" class="num">
                  Unchanged
                </th>
                <th scope="col" class="num">
                  Quarantined
                </th>
                <th scope="col">Took</th>
                <th scope="col">Notes</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((run) => (
                <tr key={run.id} class={run.id === props.highlight ? 'highlight' : ''} data-testid="run-row">
                  <td class="nowrap">{dateTime(run.started_at ?? run.queued_at)}</td>
                  <td>{run.trigger ?? '—'}</td>
                  <td>
                    <RunStatusBadge status={run.status} />
                  </td>
                  <td class="num">{run.fetched}</td>
                  <td class="num">{run.created}</td>
                  <td class="num">{run.updated}</td>
                  <td class="num">{run.unchanged}</td>
                  <td class="num">
                    {run.quarantined > 0 ? (
                      <button
                        type="button"
                        class="small"
                        onClick={() => props.onQuarantine(run.id)}
                        aria-label={`Show the ${run.quarantined} quarantined records of this run`}
                      >
                        {run.quarantined}
                      </button>
                    ) : (
                      0
                    )}
                  </td>
                  <td>{duration(run)}</td>
                  <td>
                    {run.error ? <span class="error-note">{run.error}</span> : null}
                    {run.schema_drift &&
                    (run.schema_drift.new_fields.length > 0 ||
                      run.schema_drift.vanished_fields.length > 0) ? (
                      <span>
                        Schema drift:{' '}
                        {run.schema_drift.new_fields.length
                          ? `new ${run.schema_drift.new_fields.join(', ')}`
                          : ''}{' '}
                        {run.schema_drift.vanished_fields.length
                          ? `vanished ${run.schema_drift.vanished_fields.join(', ')}`
                          : ''}
                      </span>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <PageFooter list={list} noun="runs" />
    </div>
  );
}
