import type { FastifyBaseLogger } from 'fastify';
import type { EgressPolicy } from '../../../app/egress.ts';
import type { Db } from '../../../db/database.ts';
import type { ClaimedLane } from '../relay/lane.repository.ts';
import { findSubscriptionForDelivery, insertDelivery } from '../webhooks/webhook.repository.ts';
import { decryptSecret } from '../webhooks/webhook.secret.ts';
import { sendWebhook } from '../webhooks/webhook.sender.ts';
import { disableFailingWebhook } from '../webhooks/webhook.service.ts';
import { type EventSink, exponentialBackoff } from './sink.ts';

export interface WebhookSinkOptions {
  db: Db;
  secretsKey: Buffer;
  logger: FastifyBaseLogger;
  /** A subscription failing for this long is disabled (24 h by default). */
  retryWindowMs: number;
  /** Where deliveries may connect; public addresses only by default. */
  allowedNetworks?: EgressPolicy;
  timeoutMs?: number;
  /** First retry delay; doubles per attempt up to `maxRetryDelayMs`. */
  retryBaseMs?: number;
  maxRetryDelayMs?: number;
}

/**
 * Webhooks: one lane per subscription, so a failing endpoint only delays its own events. Every
 * attempt is logged; the event is retried with backoff until the retry window runs out.
 */
export function createWebhookSink(options: WebhookSinkOptions): EventSink {
  const { db } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    name: 'webhook',
    batchSize: 20,
    concurrency: 16,
    retryDelayMs: exponentialBackoff(options.retryBaseMs ?? 5_000, options.maxRetryDelayMs ?? 3_600_000),

    async open(lane: ClaimedLane) {
      const subscription = await findSubscriptionForDelivery(db, lane.laneKey);
      if (!subscription?.enabled) return undefined;
      const secret = decryptSecret(options.secretsKey, subscription.secret_encrypted);
      return {
        types: subscription.event_types,
        async send(event, attempt) {
          const result = await sendWebhook({
            url: subscription.url,
            secret,
            event: event.envelope,
            timeoutMs,
            allowedNetworks: options.allowedNetworks,
          });
          await insertDelivery(db, {
            subscription_id: subscription.id,
            property_id: subscription.property_id,
            event_id: event.id,
            event_type: event.type,
            attempt,
            trigger: 'automatic',
            status: result.ok ? 'succeeded' : 'failed',
            response_status: result.responseStatus,
            error: result.error,
            duration_ms: result.durationMs,
          });
          // The log shows the tenant one message per kind of failure; operators get the cause.
          if (result.detail)
            options.logger.warn(
              { webhook: subscription.id, event: event.id, cause: result.detail },
              'webhook delivery failed',
            );
          if (!result.ok) throw new Error(result.error ?? 'delivery failed');
        },
      };
    },

    async afterFailure(lane, error) {
      if (Date.now() - lane.failingSince.getTime() < options.retryWindowMs) return;
      const disabled = await disableFailingWebhook(db, {
        id: lane.laneKey,
        failingSince: lane.failingSince,
        lastError: error,
      });
      if (disabled) {
        options.logger.warn({ webhook: lane.laneKey, error }, 'disabled a webhook that kept failing');
      }
    },

    async close() {},
  };
}
