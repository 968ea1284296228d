import type { FastifyBaseLogger } from 'fastify';
import { type EgressPolicy, refusedLiteralHost } from '../../../app/egress.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../../../app/errors.ts';
import { decodeCursor, encodeCursor } from '../../../app/schemas.ts';
import type { Db } from '../../../db/database.ts';
import { type RequestContext, recordAudit, systemContext } from '../../audit/audit.repository.ts';
import { type Actor, assertCanSeeProperty, propertyScope } from '../../auth/auth.context.ts';
import { eventExpired } from '../events.retention.ts';
import { appendEvent, type CloudEvent } from '../outbox.ts';
import * as repo from './webhook.repository.ts';
import { decryptSecret, encryptSecret, generateWebhookSecret } from './webhook.secret.ts';
import { sendWebhook } from './webhook.sender.ts';

export interface WebhookSettings {
  secretsKey: Buffer;
  timeoutMs: number;
  allowedNetworks: EgressPolicy;
  /** EVENT_RETENTION_DAYS: a logged delivery's event may have left the outbox since. */
  eventRetentionDays: number;
  /** Gets the full cause of a failed manual redelivery, which the delivery log does not show. */
  logger?: Pick<FastifyBaseLogger, 'warn'>;
}

type WriteContext = RequestContext & { actor: Actor };

export interface NewWebhook {
  property_id: string;
  url: string;
  event_types: string[];
  description?: string | null;
}

export interface WebhookChanges {
  url?: string;
  event_types?: string[];
  description?: string | null;
  enabled?: boolean;
}

function toPublic(row: repo.SubscriptionView) {
  return {
    id: row.id,
    property_id: row.property_id,
    url: row.url,
    description: row.description,
    event_types: row.event_types,
    enabled: row.enabled,
    disabled_reason: row.disabled_reason,
    disabled_at: row.disabled_at?.toISOString() ?? null,
    delivery: {
      failing_since: row.failing_since?.toISOString() ?? null,
      attempts: row.attempts ?? 0,
      next_attempt_at: row.failing_since ? (row.next_attempt_at?.toISOString() ?? null) : null,
      last_error: row.last_error,
    },
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export type PublicWebhook = ReturnType<typeof toPublic>;

function toPublicDelivery(row: repo.DeliveryRow) {
  return { ...row, created_at: row.created_at.toISOString() };
}

/**
 * Only http(s) URLs with a host; credentials in the URL would be stored and logged in clear. A host
 * given as an address (or `localhost`) must be one WEBHOOK_ALLOWED_NETWORKS allows; a name is
 * checked when it is resolved for each delivery, since what it points to can change.
 */
export function assertWebhookUrl(raw: string, allowedNetworks: EgressPolicy): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError('The webhook URL is not a valid URL.', [
      { pointer: '/body/url', message: 'is not a URL' },
    ]);
  }
  const refused = url.hostname ? refusedLiteralHost(url.hostname, allowedNetworks) : undefined;
  const problem =
    url.protocol !== 'http:' && url.protocol !== 'https:'
      ? 'must use http or https'
      : !url.hostname
        ? 'must name a host'
        : url.username || url.password
          ? 'must not contain credentials; verify requests with the signing secret instead'
          : refused
            ? `must not target ${refused.host}, which WEBHOOK_ALLOWED_NETWORKS (${allowedNetworks.description}) does not allow`
            : undefined;
  if (problem)
    throw new ValidationError(`The webhook URL ${problem}.`, [{ pointer: '/body/url', message: problem }]);
}

function assertCanManage(actor: Actor, propertyId: string, id?: string): void {
  assertCanSeeProperty(actor, propertyId, id ? 'Webhook' : 'Property', id ?? propertyId);
  if (actor.role === 'STAFF') throw new ForbiddenError('Only property administrators manage webhooks.');
}

export function createWebhookService(db: Db, settings: WebhookSettings) {
  async function loadManaged(actor: Actor, id: string): Promise<repo.SubscriptionView> {
    const row = await repo.findSubscription(db, id);
    if (!row) throw new NotFoundError('Webhook', id);
    assertCanManage(actor, row.property_id, id);
    return row;
  }

  async function reload(id: string): Promise<PublicWebhook> {
    const row = await repo.findSubscription(db, id);
    if (!row) throw new NotFoundError('Webhook', id);
    return toPublic(row);
  }

  return {
    /** Creates a subscription; its signing secret is in this answer and never shown again. */
    async create(ctx: WriteContext, input: NewWebhook): Promise<PublicWebhook & { secret: string }> {
      assertCanManage(ctx.actor, input.property_id);
      assertWebhookUrl(input.url, settings.allowedNetworks);
      const secret = generateWebhookSecret();
      const id = await db.transaction().execute(async (tx) => {
        const created = await repo.insertSubscription(tx, {
          property_id: input.property_id,
          url: input.url,
          description: input.description ?? null,
          event_types: input.event_types,
          secret_encrypted: encryptSecret(settings.secretsKey, secret),
          created_by: ctx.actor.id,
        });
        await repo.insertLane(tx, created, input.property_id);
        await recordAudit(tx, ctx, {
          action: 'webhook.created',
          entityType: 'webhook_subscription',
          entityId: created,
          propertyId: input.property_id,
          after: { url: input.url, event_types: input.event_types, description: input.description ?? null },
        });
        return created;
      });
      return { ...(await reload(id)), secret };
    },

    async list(actor: Actor, query: { property_id?: string; cursor?: string; limit: number }) {
      if (actor.role === 'STAFF') throw new ForbiddenError('Only property administrators manage webhooks.');
      let propertyIds = propertyScope(actor);
      if (query.property_id) {
        assertCanSeeProperty(actor, query.property_id);
        propertyIds = [query.property_id];
      }
      const after = decodeCursor(query.cursor);
      const rows = await repo.listSubscriptions(db, {
        propertyIds,
        after: after && { createdAt: String(after.sortKey), id: after.id },
        limit: query.limit,
      });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        results: page.map(toPublic),
        next_cursor:
          rows.length > query.limit && last ? encodeCursor(last.created_at.toISOString(), last.id) : null,
      };
    },

    async get(actor: Actor, id: string): Promise<PublicWebhook> {
      return toPublic(await loadManaged(actor, id));
    },

    /**
     * Changes a subscription. A URL on another origin (scheme, host, port) gets a new signing
     * secret, returned in this answer only: events signed with the secret the old receiver knows
     * never reach a new one, where they could be replayed to the old.
     */
    async update(
      ctx: WriteContext,
      id: string,
      changes: WebhookChanges,
    ): Promise<PublicWebhook & { secret?: string }> {
      const before = await loadManaged(ctx.actor, id);
      if (changes.url !== undefined) assertWebhookUrl(changes.url, settings.allowedNetworks);
      const secret = await db.transaction().execute(async (tx) => {
        // Decided on the locked row, so two concurrent changes cannot move the URL without a rotation.
        const current = await repo.lockSubscription(tx, id);
        if (!current) throw new NotFoundError('Webhook', id);
        const rotated =
          changes.url !== undefined && new URL(changes.url).origin !== new URL(current.url).origin
            ? generateWebhookSecret()
            : undefined;
        const reenabled = changes.enabled === true && !before.enabled;
        const disabled = changes.enabled === false && before.enabled;
        await repo.updateSubscription(tx, id, {
          ...changes,
          ...(rotated && { secret_encrypted: encryptSecret(settings.secretsKey, rotated) }),
          ...(reenabled && { disabled_reason: null, disabled_at: null }),
          ...(disabled && { disabled_reason: 'Disabled by a user.', disabled_at: new Date() }),
        });
        if (reenabled || disabled) await repo.setLaneActive(tx, id, reenabled);
        await recordAudit(tx, ctx, {
          action: 'webhook.updated',
          entityType: 'webhook_subscription',
          entityId: id,
          propertyId: before.property_id,
          before: {
            url: current.url,
            event_types: before.event_types,
            description: before.description,
            enabled: before.enabled,
          },
          after: {
            url: changes.url ?? current.url,
            event_types: changes.event_types ?? before.event_types,
            description: changes.description === undefined ? before.description : changes.description,
            enabled: changes.enabled ?? before.enabled,
          },
        });
        if (rotated) {
          await recordAudit(tx, ctx, {
            action: 'webhook.secret_rotated',
            entityType: 'webhook_subscription',
            entityId: id,
            propertyId: before.property_id,
            diff: { secret: ['[redacted]', '[redacted]'], reason: 'the URL moved to another origin' },
          });
        }
        return rotated;
      });
      const view = await reload(id);
      return secret ? { ...view, secret } : view;
    },

    async remove(ctx: WriteContext, id: string): Promise<void> {
      const before = await loadManaged(ctx.actor, id);
      await db.transaction().execute(async (tx) => {
        await repo.deleteSubscription(tx, id);
        await recordAudit(tx, ctx, {
          action: 'webhook.deleted',
          entityType: 'webhook_subscription',
          entityId: id,
          propertyId: before.property_id,
          before: { url: before.url, event_types: before.event_types },
        });
      });
    },

    /** Replaces the signing secret; the new one is in this answer and never shown again. */
    async rotateSecret(ctx: WriteContext, id: string): Promise<PublicWebhook & { secret: string }> {
      const before = await loadManaged(ctx.actor, id);
      const secret = generateWebhookSecret();
      await db.transaction().execute(async (tx) => {
        await repo.updateSubscription(tx, id, {
          secret_encrypted: encryptSecret(settings.secretsKey, secret),
        });
        await recordAudit(tx, ctx, {
          action: 'webhook.secret_rotated',
          entityType: 'webhook_subscription',
          entityId: id,
          propertyId: before.property_id,
          diff: { secret: ['[redacted]', '[redacted]'] },
        });
      });
      return { ...(await reload(id)), secret };
    },

    async deliveries(actor: Actor, id: string, query: { cursor?: string; limit: number }) {
      await loadManaged(actor, id);
      const before = decodeCursor(query.cursor);
      const rows = await repo.listDeliveries(db, {
        subscriptionId: id,
        before: before && { createdAt: String(before.sortKey), id: before.id },
        limit: query.limit,
      });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        results: page.map(toPublicDelivery),
        next_cursor:
          rows.length > query.limit && last ? encodeCursor(last.created_at.toISOString(), last.id) : null,
      };
    },

    /** Sends a logged delivery's event again, now, and logs that attempt (trigger `manual`). */
    async redeliver(ctx: WriteContext, id: string, deliveryId: string) {
      await loadManaged(ctx.actor, id);
      const delivery = await repo.findDelivery(db, id, deliveryId);
      if (!delivery) throw new NotFoundError('Delivery', deliveryId);
      const subscription = await repo.findSubscriptionForDelivery(db, id);
      const event = await repo.findEventEnvelope(db, delivery.event_id);
      if (!subscription) throw new NotFoundError('Delivery', deliveryId);
      if (!event) throw eventExpired(delivery.event_id, settings.eventRetentionDays);
      const attempt = await sendWebhook({
        url: subscription.url,
        secret: decryptSecret(settings.secretsKey, subscription.secret_encrypted),
        event: event.envelope as unknown as CloudEvent,
        timeoutMs: settings.timeoutMs,
        allowedNetworks: settings.allowedNetworks,
      });
      if (attempt.detail)
        settings.logger?.warn(
          { webhook: id, event: delivery.event_id, cause: attempt.detail },
          'webhook redelivery failed',
        );
      const previous = await repo.countAttempts(db, id, delivery.event_id);
      const logged = await db.transaction().execute(async (tx) => {
        const row = await repo.insertDelivery(tx, {
          subscription_id: id,
          property_id: subscription.property_id,
          event_id: delivery.event_id,
          event_type: delivery.event_type,
          attempt: previous + 1,
          trigger: 'manual',
          status: attempt.ok ? 'succeeded' : 'failed',
          response_status: attempt.responseStatus,
          error: attempt.error,
          duration_ms: attempt.durationMs,
        });
        await recordAudit(tx, ctx, {
          action: 'webhook.redelivered',
          entityType: 'webhook_subscription',
          entityId: id,
          propertyId: subscription.property_id,
          diff: { delivery_id: deliveryId, event_id: delivery.event_id, status: row.status },
        });
        return row;
      });
      return toPublicDelivery(logged);
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;

/**
 * Disables a subscription that kept failing past its retry window, and says so: an audit row and
 * a `pms.webhook.disabled` event, in the same transaction (a no-op if it was already disabled).
 */
export async function disableFailingWebhook(
  db: Db,
  input: { id: string; failingSince: Date; lastError: string },
): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const reason =
      `Disabled after failing since ${input.failingSince.toISOString()}: ${input.lastError}`.slice(0, 1000);
    const row = await repo.disableSubscription(tx, input.id, reason);
    if (!row) return false;
    await repo.setLaneActive(tx, input.id, false);
    await recordAudit(tx, systemContext, {
      action: 'webhook.disabled',
      entityType: 'webhook_subscription',
      entityId: input.id,
      propertyId: row.property_id,
      diff: { enabled: [true, false], reason },
    });
    await appendEvent(tx, 'pms.webhook.disabled', row.property_id, {
      webhook_id: row.id,
      url: row.url,
      failing_since: input.failingSince.toISOString(),
      last_error: input.lastError,
    });
    return true;
  });
}

/**
 * Empties the delivery log of attempts older than `before`, in batches of `batch` rows so no
 * statement holds many locks or a long transaction. Returns how many attempts were deleted.
 */
export async function purgeDeliveryLog(db: Db, before: Date, batch = 5_000): Promise<number> {
  let purged = 0;
  for (const id of await repo.subscriptionIds(db)) {
    for (;;) {
      const deleted = await repo.deleteDeliveriesBefore(db, id, before, batch);
      purged += deleted;
      if (deleted < batch) break;
    }
  }
  return purged;
}
