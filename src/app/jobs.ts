import type { FastifyBaseLogger } from 'fastify';
import { PgBoss } from 'pg-boss';
import { timeLimitsOf } from '../db/connect.ts';
import { connectionSettings, readTimeoutFor } from '../db/database.ts';
import type { AppConfig } from './config.ts';

/** The one job queue (pg-boss) a worker process runs its scheduled and queued work on. */
export interface JobQueue {
  /** The started queue; started on first use, once, whoever asks first. */
  get(): Promise<PgBoss>;
  /** Lets running jobs finish (up to 30 s), then closes its connections. */
  stop(): Promise<void>;
}

/**
 * One pg-boss per process for every module's jobs, rather than one each: a pool of connections
 * and one maintenance loop. Its connections get the same time limits as the process's pool
 * (docs/deploy.md, "Time limits on every connection"); pg-boss runs its statements through
 * pool.query, which drops a connection whose statement failed, so pg's client-side timeout cannot
 * leave a busy connection in its pool.
 */
export function createJobQueue(
  config: AppConfig,
  databaseUrl: string,
  logger: Pick<FastifyBaseLogger, 'error'>,
): JobQueue {
  let started: Promise<PgBoss> | undefined;
  return {
    get() {
      started ??= (async () => {
        const limits = timeLimitsOf(config);
        const boss = new PgBoss({
          connectionString: databaseUrl,
          max: 6,
          application_name: 'pms-jobs',
          ...connectionSettings(limits),
          ...(readTimeoutFor(limits) > 0 && { query_timeout: readTimeoutFor(limits) }),
        });
        boss.on('error', (error: unknown) => logger.error({ err: error }, 'pg-boss error'));
        await boss.start();
        return boss;
      })();
      return started;
    },
    async stop() {
      const boss = await started?.catch(() => undefined);
      await boss?.stop({ graceful: true, timeout: 30_000 });
    },
  };
}
