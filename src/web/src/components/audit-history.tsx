import { get, type Page } from '../lib/api.ts';
import { dateTime } from '../lib/dates.ts';
import { usePaged } from '../lib/hooks.ts';
import type { AuditEntry } from '../lib/types.ts';
import { PageFooter } from './list.tsx';

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '∅';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/** One line per changed field: "{field: [before, after]}" diffs, or plain values. */
function DiffView(props: { diff: Record<string, unknown> | null }) {
  if (!props.diff) return null;
  return (
    <ul class="diff">
      {Object.entries(props.diff).map(([field, change]) => (
        <li key={field}>
          <code>{field}</code>{' '}
          {Array.isArray(change) && change.length === 2
            ? `${formatValue(change[0])} → ${formatValue(change[1])}`
            : formatValue(change)}
        </li>
      ))}
    </ul>
  );
}

export function AuditHistory(props: { entityType: string; entityId: string; version: number }) {
  const list = usePaged<AuditEntry>(
    (cursor) =>
      get<Page<AuditEntry>>('/api/audit/', {
        entity_type: props.entityType,
        entity_id: props.entityId,
        cursor,
        limit: 50,
      }),
    [props.entityType, props.entityId, props.version],
  );
  return (
    <div>
      <ol class="feed" data-testid="audit-history">
        {list.items.map((entry) => (
          <li key={entry.id}>
            <time dateTime={entry.created_at}>{dateTime(entry.created_at)}</time>
            <strong>{entry.action}</strong>{' '}
            <span class="muted">
              by {entry.actor_name ? `API key "${entry.actor_name}"` : (entry.actor_role ?? 'system')}
            </span>
            <DiffView diff={entry.diff} />
          </li>
        ))}
      </ol>
      <PageFooter list={list} noun="entries" />
    </div>
  );
}
