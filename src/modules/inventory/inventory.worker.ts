import { everyInterval } from '../../app/every-interval.ts';
import type { WorkerStarter } from '../../app/workers.ts';
import { releaseExpiredHolds } from './inventory.holds.ts';

/** How often expired holds are swept; a hold outlives its expiry by at most about this long. */
export const HOLD_SWEEP_INTERVAL_MS = 15_000;

/** Releases expired holds. Several workers may run it side by side (holds are claimed SKIP LOCKED). */
export const startHoldSweeper: WorkerStarter = async ({ config, db, logger }) =>
  everyInterval('release-expired-holds', HOLD_SWEEP_INTERVAL_MS, logger, async () => {
    const released = await releaseExpiredHolds(db, {
      policy: config.lockPolicy,
      timeoutMs: config.lockTimeoutMs,
    });
    if (released > 0) logger.info({ released }, 'released expired inventory holds');
  });
