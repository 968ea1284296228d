import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.ts';
import { startApiKeyUsagePurge, startRefreshTokenPurge } from '../modules/auth/auth.worker.ts';
import { startOutboxRetention } from '../modules/events/events.retention.ts';
import { startEventRelay } from '../modules/events/events.worker.ts';
import { startWebhookLogPurge } from '../modules/events/webhooks/webhook.worker.ts';
import { startPmsSyncWorker } from '../modules/integrations/integrations.worker.ts';
import { startHoldSweeper } from '../modules/inventory/inventory.worker.ts';
import { startNightAuditWorker } from '../modules/night-audit/night-audit.worker.ts';
import { startIdempotencyPurge } from '../modules/reservations/reservation.worker.ts';
import type { AppConfig } from './config.ts';
import { createJobQueue, type JobQueue } from './jobs.ts';

export interface WorkerDeps {
  config: AppConfig;
  db: Db;
  logger: FastifyBaseLogger;
  databaseUrl: string;
  /** The process's one job queue (pg-boss), for modules that schedule or queue work. */
  jobs: JobQueue;
}

/** A background worker: started with the worker role, stopped on shutdown. */
export type WorkerStarter = (deps: WorkerDeps) => Promise<() => Promise<void>>;

/**
 * Each module that has background work registers it here. The relay comes last: a worker that
 * publishes events has finished starting, so losing the database afterwards never fails the start.
 */
const starters: WorkerStarter[] = [
  startWebhookLogPurge,
  startOutboxRetention,
  startHoldSweeper,
  startIdempotencyPurge,
  startRefreshTokenPurge,
  startApiKeyUsagePurge,
  startPmsSyncWorker,
  startNightAuditWorker,
  startEventRelay,
];

export async function startWorkers(deps: Omit<WorkerDeps, 'jobs'>): Promise<() => Promise<void>> {
  const jobs = createJobQueue(deps.config, deps.databaseUrl, deps.logger);
  const stops: Array<() => Promise<void>> = [];
  try {
    for (const start of starters) stops.push(await start({ ...deps, jobs }));
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await jobs.stop().catch(() => {});
    throw error;
  }
  return async () => {
    for (const stop of stops.reverse()) await stop();
    await jobs.stop();
  };
}
