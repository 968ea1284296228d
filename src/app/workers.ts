import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.ts';
import { startRefreshTokenPurge } from '../modules/auth/auth.worker.ts';
import { startOutboxRetention } from '../modules/events/events.retention.ts';
import { startEventRelay } from '../modules/events/events.worker.ts';
import { startWebhookLogPurge } from '../modules/events/webhooks/webhook.worker.ts';
import { startPmsSyncWorker } from '../modules/integrations/integrations.worker.ts';
import { startHoldSweeper } from '../modules/inventory/inventory.worker.ts';
import { startIdempotencyPurge } from '../modules/reservations/reservation.worker.ts';
import type { AppConfig } from './config.ts';

export interface WorkerDeps {
  config: AppConfig;
  db: Db;
  logger: FastifyBaseLogger;
  databaseUrl: string;
}

/** A background worker: started with the worker role, stopped on shutdown. */
export type WorkerStarter = (deps: WorkerDeps) => Promise<() => Promise<void>>;

/** Each module that has background work registers it here. */
const starters: WorkerStarter[] = [
  startEventRelay,
  startWebhookLogPurge,
  startOutboxRetention,
  startHoldSweeper,
  startIdempotencyPurge,
  startRefreshTokenPurge,
  startPmsSyncWorker,
];

export async function startWorkers(deps: WorkerDeps): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];
  for (const start of starters) stops.push(await start(deps));
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
