import { resolveSecretsKey } from '../../app/secrets.ts';
import type { WorkerStarter } from '../../app/workers.ts';
import { applyImportedChanges } from '../inventory/inventory.service.ts';
import { createSyncService } from './sync/sync.service.ts';

const SWEEP = 'pms-sync-sweep';
const RUN = 'pms-sync-run';
/** Hotels one worker syncs at once; the per-PMS request budget applies on top. */
const HOTELS_IN_PARALLEL = 4;
/** A queued run nobody started for this long (its API node went away) is handed to the workers. */
const ORPHANED_AFTER_SECONDS = 60;

/**
 * Scheduled PMS syncs on pg-boss: a sweep job every minute queues a run for each connection that
 * is due and hands every run to the `pms-sync-run` queue, which this and any other worker take
 * from (SKIP LOCKED), a few hotels at a time each.
 */
export const startPmsSyncWorker: WorkerStarter = async ({ config, db, logger, jobs }) => {
  const sync = createSyncService({
    db,
    secretsKey: resolveSecretsKey(config),
    applyImportedChanges,
    logger,
    concurrency: HOTELS_IN_PARALLEL,
    allowedNetworks: config.pmsAllowedNetworks,
    abandonedAfterSeconds: config.syncAbandonedSeconds,
  });
  const boss = await jobs.get();
  await boss.createQueue(SWEEP);
  await boss.createQueue(RUN, { retryLimit: 0, expireInSeconds: 3600 });

  const sweep = async () => {
    const abandoned = await sync.failAbandoned();
    if (abandoned.length > 0) logger.warn({ runs: abandoned }, 'failed PMS sync runs whose process stopped');
    const runIds = [...(await sync.queueDue()), ...(await sync.orphanedQueued(ORPHANED_AFTER_SECONDS))];
    for (const runId of runIds) await boss.send(RUN, { runId }, { singletonKey: runId });
    if (runIds.length > 0) logger.info({ runs: runIds.length }, 'queued scheduled PMS syncs');
  };

  await boss.schedule(SWEEP, '* * * * *');
  await boss.work(SWEEP, async () => {
    await sweep();
  });
  await boss.work<{ runId: string }>(RUN, { localConcurrency: HOTELS_IN_PARALLEL }, async (jobs) => {
    for (const job of jobs) await sync.execute(job.data.runId);
  });
  // Do not wait a minute for the first sweep after a start.
  await sweep().catch((error: unknown) => logger.error({ err: error }, 'PMS sync sweep failed'));

  return async () => {
    await boss.offWork(SWEEP, { wait: true });
    await boss.offWork(RUN, { wait: true });
    await sync.drain();
  };
};
