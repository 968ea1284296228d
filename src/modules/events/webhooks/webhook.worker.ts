import { everyInterval } from '../../../app/every-interval.ts';
import type { WorkerStarter } from '../../../app/workers.ts';
import { loadRelaySettings } from '../events.config.ts';
import { purgeDeliveryLog } from './webhook.service.ts';

const PURGE_INTERVAL_MS = 60 * 60_000;

/** Keeps the webhook delivery log to its last WEBHOOK_DELIVERY_LOG_DAYS (30) days. */
export const startWebhookLogPurge: WorkerStarter = async ({ db, logger }) => {
  const { webhookLogRetentionMs } = loadRelaySettings();
  return everyInterval('purge-webhook-delivery-log', PURGE_INTERVAL_MS, logger, async () => {
    const purged = await purgeDeliveryLog(db, new Date(Date.now() - webhookLogRetentionMs));
    if (purged > 0) logger.info({ purged }, 'purged old webhook delivery attempts');
  });
};
