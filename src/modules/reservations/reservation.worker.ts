import { everyInterval } from '../../app/every-interval.ts';
import type { WorkerStarter } from '../../app/workers.ts';
import { purgeExpiredIdempotencyKeys } from './reservation.service.ts';

const PURGE_INTERVAL_MS = 10 * 60_000;

/** Forgets remembered responses of Idempotency-Keys older than 24 hours. */
export const startIdempotencyPurge: WorkerStarter = async ({ db, logger }) =>
  everyInterval('purge-idempotency-keys', PURGE_INTERVAL_MS, logger, async () => {
    const purged = await purgeExpiredIdempotencyKeys(db);
    if (purged > 0) logger.info({ purged }, 'purged expired idempotency keys');
  });
