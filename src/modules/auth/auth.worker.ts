import { everyInterval } from '../../app/every-interval.ts';
import type { WorkerStarter } from '../../app/workers.ts';
import { purgeOldApiKeyUsage } from './api-key.service.ts';
import { purgeExpiredRefreshTokens } from './auth.service.ts';

const PURGE_INTERVAL_MS = 60 * 60_000;
/** Kept a day past expiry, so a clock a little behind never meets a token whose row is gone. */
const KEEP_AFTER_EXPIRY_MS = 86_400_000;

/** Deletes expired refresh tokens hourly (worker role): every login and rotation adds one. */
export const startRefreshTokenPurge: WorkerStarter = async ({ db, logger }) =>
  everyInterval('purge-refresh-tokens', PURGE_INTERVAL_MS, logger, async () => {
    const purged = await purgeExpiredRefreshTokens(db, new Date(Date.now() - KEEP_AFTER_EXPIRY_MS));
    if (purged > 0) logger.info({ purged }, 'purged expired refresh tokens');
  });

/** API key calls per minute are kept this long; each key's last use is kept anyway (its "last used"). */
const KEEP_API_KEY_USAGE_MS = 90 * 86_400_000;

/** Deletes old API key usage hourly (worker role): every key in use adds a row a minute. */
export const startApiKeyUsagePurge: WorkerStarter = async ({ db, logger }) =>
  everyInterval('purge-api-key-usage', PURGE_INTERVAL_MS, logger, async () => {
    const purged = await purgeOldApiKeyUsage(db, new Date(Date.now() - KEEP_API_KEY_USAGE_MS));
    if (purged > 0) logger.info({ purged }, 'purged old API key usage');
  });
