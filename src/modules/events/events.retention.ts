import { sql } from 'kysely';
import { GoneError } from '../../app/errors.ts';
import type { WorkerStarter } from '../../app/workers.ts';
import type { Db } from '../../db/database.ts';
import { everyInterval } from '../inventory/inventory.housekeeping.ts';

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
    const { rows } = await sql<{
      deleted: string;
      scanned: string;
      last_position: string | null;
      all_old: boolean | null;
    }>`
      WITH batch AS (
        SELECT seq, position, property_id, created_at FROM outbox_event
        WHERE position IS NOT NULL AND position > ${from}
        ORDER BY position
        LIMIT ${batch}
      ), doomed AS (
        SELECT b.seq FROM batch b
        WHERE b.created_at < ${before}
          AND NOT EXISTS (
            SELECT 1 FROM event_lane l
            WHERE (l.property_id = b.property_id OR (l.property_id IS NULL AND b.property_id IS NULL))
              AND l.active
              AND b.position > l.delivered_position AND b.position <= l.head_position
              AND (l.sink = 'webhook' OR EXISTS (SELECT 1 FROM event_sink s WHERE s.name = l.sink AND s.enabled))
          )
      ), deleted AS (
        DELETE FROM outbox_event o USING doomed d WHERE o.seq = d.seq RETURNING 1
      )
      SELECT (SELECT count(*) FROM deleted) AS deleted,
             (SELECT count(*) FROM batch) AS scanned,
             (SELECT max(position) FROM batch) AS last_position,
             (SELECT bool_and(created_at < ${before}) FROM batch) AS all_old
    `.execute(db);
    const result = rows[0]!;
    pruned += Number(result.deleted);
    if (Number(result.scanned) < batch || !result.all_old || result.last_position === null) return pruned;
    from = Number(result.last_position);
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
  return new GoneError(
    `Event ${id} is older than the event retention (${retentionDays} days) and was removed from the history. ` +
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
