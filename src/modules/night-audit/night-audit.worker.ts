import type { WorkerStarter } from '../../app/workers.ts';
import { runNightAudit } from './night-audit.service.ts';

const QUEUE = 'night-audit';
/**
 * Every five minutes: each hotel's day ends at its own local midnight, so one schedule checks them
 * all and audits those whose day has passed (a hotel's audit runs at most five minutes late).
 */
const SCHEDULE = '*/5 * * * *';

/**
 * The scheduled night audit on pg-boss: one job per tick across all workers (pg-boss schedules
 * once per cron slot), and each property audited under its own lock, so two workers or a manual
 * run at the same moment never audit a property twice.
 */
export const startNightAuditWorker: WorkerStarter = async ({ config, db, logger, jobs }) => {
  const lock = { policy: config.lockPolicy, timeoutMs: config.lockTimeoutMs };
  const boss = await jobs.get();
  await boss.createQueue(QUEUE, { retryLimit: 0, expireInSeconds: 3600 });

  const audit = async (checkHorizon: boolean) => {
    const { audited, failed } = await runNightAudit(db, lock, {
      horizonDays: config.inventoryHorizonDays,
      checkHorizon,
    });
    const rolled = audited.filter((result) => result.rolled);
    if (rolled.length > 0) {
      logger.info(
        {
          properties: rolled.map((r) => ({ id: r.property_id, business_date: r.business_date })),
          no_shows: rolled.reduce((sum, r) => sum + r.no_shows.length, 0),
        },
        'night audit rolled business dates',
      );
    }
    for (const { property_id, error } of failed) {
      logger.error({ err: error, property_id }, 'night audit of a property failed; the next run retries it');
    }
  };

  await boss.schedule(QUEUE, SCHEDULE);
  await boss.work(QUEUE, async () => {
    await audit(false);
  });
  // At start, check every hotel's whole horizon once: after a deploy or a longer horizon setting.
  await audit(true).catch((error: unknown) => logger.error({ err: error }, 'night audit failed'));

  return async () => {
    await boss.offWork(QUEUE, { wait: true });
  };
};
