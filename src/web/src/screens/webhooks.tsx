import { useEffect, useRef, useState } from 'preact/hooks';
import { CheckField, CheckGroup, ProblemSummary, TextField } from '../components/forms.tsx';
import { PageFooter } from '../components/list.tsx';
import {
  Badge,
  confirmAction,
  Dialog,
  Empty,
  ErrorNote,
  NeedProperty,
  notify,
  PageHeader,
} from '../components/ui.tsx';
import { type ApiError, del, describeError, get, type Page, patch, post, showProblem } from '../lib/api.ts';
import { dateTime } from '../lib/dates.ts';
import { usePaged } from '../lib/hooks.ts';
import { currentProperty, session } from '../lib/session.ts';
import { useStore } from '../lib/store.ts';
import type { Webhook, WebhookDelivery } from '../lib/types.ts';

export const EVENT_TYPES = [
  'pms.inventory.updated',
  'pms.inventory.overbooked',
  'pms.reservation.created',
  'pms.reservation.modified',
  'pms.reservation.cancelled',
  'pms.rates.updated',
  'pms.integration.sync.completed',
  'pms.webhook.disabled',
];

function deliveryState(webhook: Webhook) {
  if (!webhook.enabled)
    return <Badge tone="bad">disabled{webhook.disabled_reason ? `: ${webhook.disabled_reason}` : ''}</Badge>;
  if (webhook.delivery.failing_since) {
    return (
      <Badge tone="warn" title={webhook.delivery.last_error ?? undefined}>
        failing since {dateTime(webhook.delivery.failing_since)} ({webhook.delivery.attempts} attempts)
      </Badge>
    );
  }
  return <Badge tone="ok">healthy</Badge>;
}

export function WebhooksScreen() {
  const state = useStore(session);
  const property = currentProperty(state);
  const propertyId = property?.id;
  const [editing, setEditing] = useState<Webhook | 'new' | null>(null);
  const [secret, setSecret] = useState<Webhook | null>(null);
  const [selected, setSelected] = useState<Webhook | null>(null);
  const [error, setError] = useState<string | null>(null);
  const list = usePaged<Webhook>(
    (cursor) =>
      propertyId
        ? get<Page<Webhook>>('/api/webhooks/', { property_id: propertyId, cursor })
        : Promise.resolve({ results: [], next_cursor: null }),
    [propertyId],
  );

  async function remove(webhook: Webhook) {
    if (!confirmAction(`Delete the webhook to ${webhook.url} and its delivery log?`)) return;
    try {
      await del(`/api/webhooks/${webhook.id}/`);
      if (selected?.id === webhook.id) setSelected(null);
      notify('Webhook deleted.');
      await list.reload();
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  async function rotate(webhook: Webhook) {
    if (!confirmAction('Replace the signing secret? The receiver must switch to the new one.')) return;
    try {
      setSecret(await post<Webhook>(`/api/webhooks/${webhook.id}/rotate-secret/`));
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  async function toggle(webhook: Webhook) {
    try {
      await patch(`/api/webhooks/${webhook.id}/`, { enabled: !webhook.enabled });
      notify(webhook.enabled ? 'Webhook disabled.' : 'Webhook enabled; queued events will be delivered.');
      await list.reload();
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  if (!property) return <NeedProperty />;
  return (
    <section>
      <PageHeader
        title="Webhooks"
        subtitle={`${property.name}: signed HTTP deliveries of events (Standard Webhooks), retried with backoff.`}
      >
        <button type="button" class="primary" onClick={() => setEditing('new')}>
          New webhook
        </button>
      </PageHeader>
      <ErrorNote error={error} />
      {list.items.length === 0 && !list.loading && !list.error ? (
        <Empty>No webhook subscriptions for this property.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Webhook subscriptions</caption>
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">Events</th>
                <th scope="col">State</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((webhook) => (
                <tr key={webhook.id} data-testid="webhook-row">
                  <td>
                    <code>{webhook.url}</code>
                    {webhook.description ? <div class="muted">{webhook.description}</div> : null}
                  </td>
                  <td>{webhook.event_types.join(', ')}</td>
                  <td>{deliveryState(webhook)}</td>
                  <td class="row-actions">
                    <button
                      type="button"
                      onClick={() => setSelected(webhook)}
                      aria-label={`Delivery log of ${webhook.url}`}
                    >
                      Deliveries
                    </button>
                    <button
                      type="button"
                      onClick={() => setEditing(webhook)}
                      aria-label={`Edit ${webhook.url}`}
                    >
                      Edit
                    </button>
                    <button type="button" onClick={() => toggle(webhook)}>
                      {webhook.enabled ? 'Disable' : 'Enable'}
                    </button>
                    <button type="button" onClick={() => rotate(webhook)}>
                      Rotate secret
                    </button>
                    <button
                      type="button"
                      class="danger"
                      onClick={() => remove(webhook)}
                      aria-label={`Delete ${webhook.url}`}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <PageFooter list={list} noun="webhooks" />
      {selected ? (
        <DeliveryLog
          webhook={selected}
          onClose={() => setSelected(null)}
          onRefresh={() => void list.reload()}
        />
      ) : null}
      {editing && propertyId ? (
        <Dialog title={editing === 'new' ? 'New webhook' : 'Edit webhook'} onClose={() => setEditing(null)}>
          <WebhookForm
            propertyId={propertyId}
            webhook={editing === 'new' ? undefined : editing}
            onSaved={async (saved) => {
              setEditing(null);
              if (saved.secret) setSecret(saved);
              else notify('Webhook saved.');
              await list.reload();
            }}
          />
        </Dialog>
      ) : null}
      {secret ? (
        <Dialog title="Signing secret" onClose={() => setSecret(null)}>
          <p>
            Give this secret to the receiver of <code>{secret.url}</code> to verify signatures. It is shown
            only now.
          </p>
          <pre data-testid="webhook-secret">{secret.secret}</pre>
          <div class="form-actions">
            <button type="button" class="primary" onClick={() => setSecret(null)}>
              Done
            </button>
          </div>
        </Dialog>
      ) : null}
    </section>
  );
}

function WebhookForm(props: { propertyId: string; webhook?: Webhook; onSaved: (saved: Webhook) => void }) {
  const existing = props.webhook;
  const [url, setUrl] = useState(existing?.url ?? 'https://');
  const [description, setDescription] = useState(existing?.description ?? '');
  const [types, setTypes] = useState<string[]>(
    existing?.event_types ?? [
      'pms.reservation.created',
      'pms.reservation.cancelled',
      'pms.reservation.modified',
    ],
  );
  const [enabled, setEnabled] = useState(existing?.enabled ?? true);
  const [problem, setProblem] = useState<ApiError | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const body: Record<string, unknown> = {
      url: url.trim(),
      description: description.trim() || null,
      event_types: types,
    };
    try {
      if (existing)
        props.onSaved(await patch<Webhook>(`/api/webhooks/${existing.id}/`, { ...body, enabled }));
      else props.onSaved(await post<Webhook>('/api/webhooks/', { ...body, property_id: props.propertyId }));
    } catch (error) {
      showProblem(error, setProblem);
    }
  }

  return (
    <form class="form-grid" onSubmit={submit} noValidate>
      <ProblemSummary problem={problem} fields={['/url', '/description', '/event_types', '/enabled']} />
      <TextField
        label="Endpoint URL"
        type="url"
        value={url}
        onValue={setUrl}
        pointer="/url"
        problem={problem}
        maxLength={2000}
        required
        class="span-2"
      />
      <TextField
        label="Description"
        value={description}
        onValue={setDescription}
        pointer="/description"
        problem={problem}
        maxLength={500}
        class="span-2"
      />
      <CheckGroup
        label="Event types"
        class="span-2"
        options={EVENT_TYPES.map((t) => ({ value: t, label: t }))}
        values={types}
        onValues={setTypes}
        pointer="/event_types"
        problem={problem}
      />
      {existing ? (
        <CheckField
          label="Enabled"
          checked={enabled}
          onValue={setEnabled}
          pointer="/enabled"
          problem={problem}
        />
      ) : null}
      <div class="form-actions">
        <button type="submit" class="primary">
          {existing ? 'Save webhook' : 'Create webhook'}
        </button>
      </div>
    </form>
  );
}

function DeliveryLog(props: { webhook: Webhook; onClose: () => void; onRefresh: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const list = usePaged<WebhookDelivery>(
    (cursor) => get<Page<WebhookDelivery>>(`/api/webhooks/${props.webhook.id}/deliveries/`, { cursor }),
    [props.webhook.id],
  );
  const { reload } = list;
  const onRefresh = useRef(props.onRefresh);
  onRefresh.current = props.onRefresh;
  // The relay delivers in the background; the open log (and the subscription's state) follow it.
  useEffect(() => {
    const timer = window.setInterval(() => {
      void reload();
      onRefresh.current();
    }, 3000);
    return () => window.clearInterval(timer);
  }, [reload]);

  async function redeliver(delivery: WebhookDelivery) {
    setError(null);
    try {
      const attempt = await post<WebhookDelivery>(
        `/api/webhooks/${props.webhook.id}/deliveries/${delivery.id}/redeliver/`,
      );
      notify(
        `Redelivered: ${attempt.status}${attempt.response_status ? ` (HTTP ${attempt.response_status})` : ''}.`,
        attempt.status === 'succeeded' ? 'ok' : 'bad',
      );
      await list.reload();
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  return (
    <section class="panel" aria-labelledby="deliveries-title">
      <div class="page-head">
        <h2 id="deliveries-title">Delivery log of {props.webhook.url}</h2>
        <div class="actions">
          <button type="button" onClick={() => void list.reload()}>
            Refresh
          </button>
          <button type="button" class="ghost" onClick={props.onClose}>
            Close
          </button>
        </div>
      </div>
      <ErrorNote error={error} />
      {list.items.length === 0 && !list.loading ? (
        <Empty>Nothing delivered yet.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Event</th>
                <th scope="col">Attempt</th>
                <th scope="col">Result</th>
                <th scope="col" class="num">
                  Time
                </th>
                <th scope="col">Detail</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((delivery) => (
                <tr key={delivery.id} data-testid="delivery-row">
                  <td class="nowrap">{dateTime(delivery.created_at)}</td>
                  <td>
                    {delivery.event_type}
                    <div class="muted">
                      <code>{delivery.event_id.slice(0, 8)}</code>
                    </div>
                  </td>
                  <td>
                    #{delivery.attempt}{' '}
                    {delivery.trigger === 'manual' ? <Badge tone="info">manual</Badge> : null}
                  </td>
                  <td>
                    <Badge tone={delivery.status === 'succeeded' ? 'ok' : 'bad'}>{delivery.status}</Badge>{' '}
                    {delivery.response_status ? `HTTP ${delivery.response_status}` : ''}
                  </td>
                  <td class="num">{delivery.duration_ms} ms</td>
                  <td>{delivery.error ?? ''}</td>
                  <td>
                    <button type="button" class="small" onClick={() => redeliver(delivery)}>
                      Redeliver
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <PageFooter list={list} noun="attempts" />
    </section>
  );
}
