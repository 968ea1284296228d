import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { CloudEvent } from './outbox.ts';

export interface EventRef {
  id: string;
  position: number | null;
  property_id: string | null;
}

export function findEvent(db: Db, id: string): Promise<EventRef | undefined> {
  return db
    .selectFrom('outbox_event')
    .select(['id', 'position', 'property_id'])
    .where('id', '=', id)
    .executeTakeFirst() as Promise<EventRef | undefined>;
}

export interface EventFilter {
  afterPosition: number;
  types?: string[];
  propertyId?: string;
  /** Visible properties, or null for every property (and events without one). */
  propertyIds: string[] | null;
  limit: number;
}

/** Sequenced events after a position, in position order (limit + 1 rows, to tell if more follow). */
export async function listEvents(
  db: Db,
  filter: EventFilter,
): Promise<Array<{ id: string; envelope: CloudEvent }>> {
  let query = db
    .selectFrom('outbox_event')
    .select(['id', 'envelope'])
    .where('position', 'is not', null)
    .where('position', '>', filter.afterPosition);
  if (filter.types) query = query.where('type', 'in', filter.types);
  if (filter.propertyId) query = query.where('property_id', '=', filter.propertyId);
  if (filter.propertyIds !== null) {
    query = query.where(
      'property_id',
      'in',
      filter.propertyIds.length ? filter.propertyIds : ['00000000-0000-0000-0000-000000000000'],
    );
  }
  const rows = await query
    .orderBy('position')
    .limit(filter.limit + 1)
    .execute();
  return rows.map((row) => ({ id: row.id, envelope: row.envelope as unknown as CloudEvent }));
}

export interface PruneStep {
  deleted: number;
  /** Rows the batch looked at, deleted or not. */
  scanned: number;
  lastPosition: number | null;
  /** Every row of the batch was created before the cut-off: the walk may go on. */
  allOld: boolean;
}

/**
 * One step of outbox retention: the next `limit` sequenced events after position `after`, of which
 * it deletes those created before `before` that no lane still needs. A lane needs an event when it
 * is active, its sink is enabled (webhook lanes always are), and the event lies after what it
 * delivered and up to its head (a webhook's head is its last subscribed event).
 */
export async function pruneOutboxBatch(
  db: Db,
  step: { after: number; before: Date; limit: number },
): Promise<PruneStep> {
  const { rows } = await sql<{
    deleted: string;
    scanned: string;
    last_position: string | null;
    all_old: boolean | null;
  }>`
    WITH batch AS (
      SELECT seq, position, property_id, created_at FROM outbox_event
      WHERE position IS NOT NULL AND position > ${step.after}
      ORDER BY position
      LIMIT ${step.limit}
    ), doomed AS (
      SELECT b.seq FROM batch b
      WHERE b.created_at < ${step.before}
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
           (SELECT bool_and(created_at < ${step.before}) FROM batch) AS all_old
  `.execute(db);
  const row = rows[0]!;
  return {
    deleted: Number(row.deleted),
    scanned: Number(row.scanned),
    lastPosition: row.last_position === null ? null : Number(row.last_position),
    allOld: row.all_old === true,
  };
}
