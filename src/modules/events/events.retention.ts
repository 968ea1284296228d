import { GoneError } from '../../app/errors.ts';
import { everyInterval } from '../../app/every-interval.ts';
import type { WorkerStarter } from '../../app/workers.ts';
import type { Db } from '../../db/database.ts';
import { pruneOutboxBatch } from './events.repository.ts';

/**
 * Outbox retention (EVENT_RETENTION_DAYS, docs/events.md): the outbox is the replay history, so
 * it is kept for a window, and an event leaves it only when every lane that must deliver it has.
 */

const DAY_MS = 86_400_000;
const PRUNE_INTERVAL_MS = 60 * 60_000;

/**
 * Deletes sequenced events created before `before`, except those an active lane of an enabled
 * sink has still to deliver (a position after the lane's delivered one and up to its head).
 * Walks the events in position order, `batch` rows per statement so no statement holds many
 * locks, and stops at the first batch that reaches events newer than `before`. Unsequenced events
 * are never deleted. Returns how many events were deleted.
 */
export async function pruneOutbox(db: Db, before: Date, batch = 5_000): Promise<number> {
  let pruned = 0;
  let from = 0;
  for (;;) {
    const step = await pruneOutboxBatch(db, { after: from, before, limit: batch });
    pruned += step.deleted;
    if (step.scanned < batch || !step.allOld || step.lastPosition === null) return pruned;
    from = step.lastPosition;
  }
}

/**
 * True when `id` is a UUIDv7 (every event id is one) minted before the retention window began:
 * an unknown id that old was an event the outbox no longer holds, or never existed.
 */
export function isBeforeRetention(id: string, retentionDays: number, now = Date.now()): boolean {
  if (retentionDays <= 0) return false;
  const hex = id.replaceAll('-', '');
  if (hex.length !== 32 || hex[12] !== '7') return false;
  return Number.parseInt(hex.slice(0, 12), 16) < now - retentionDays * DAY_MS;
}

/** The answer for an event the outbox no longer holds (also used by webhook redelivery). */
export function eventExpired(id: string, retentionDays: number): GoneError {
  const why = retentionDays > 0 ? `is older than the event retention (${retentionDays} days) and ` : '';
  return new GoneError(
    `Event ${id} ${why}was removed from the history. ` +
      'Replay from the oldest event kept (leave out after) and skip what you already processed by id.',
    'EVENT_EXPIRED',
  );
}

/** Prunes the outbox hourly (worker role), unless EVENT_RETENTION_DAYS is 0. */
export const startOutboxRetention: WorkerStarter = async ({ config, db, logger }) => {
  const days = config.eventRetentionDays;
  if (days === 0) return async () => {};
  return everyInterval('prune-outbox', PRUNE_INTERVAL_MS, logger, async () => {
    const pruned = await pruneOutbox(db, new Date(Date.now() - days * DAY_MS));
    if (pruned > 0) logger.info({ pruned, retention_days: days }, 'pruned old events from the outbox');
  });
};
