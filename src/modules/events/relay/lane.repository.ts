import { sql } from 'kysely';
import type { Db } from '../../../db/database.ts';
import type { CloudEvent } from '../outbox.ts';

/** A lane as claimed by one worker: its events in (delivered_position, head_position] are pending. */
export interface ClaimedLane {
  sink: string;
  laneKey: string;
  propertyId: string | null;
  deliveredPosition: number;
  headPosition: number;
  attempts: number;
  failingSince: Date | null;
}

/** A committed, sequenced outbox event as the sinks receive it. */
export interface SequencedEvent {
  position: number;
  id: string;
  type: string;
  propertyId: string | null;
  envelope: CloudEvent;
}

/**
 * Leases up to `limit` lanes of a sink that have pending events and are due. SKIP LOCKED lets
 * several workers claim at once without waiting on each other; the lease (not a long transaction)
 * marks ownership while events are published outside any transaction.
 */
export async function claimLanes(
  db: Db,
  input: { sink: string; owner: string; leaseMs: number; limit: number },
): Promise<ClaimedLane[]> {
  const result = await sql<{
    sink: string;
    lane_key: string;
    property_id: string | null;
    delivered_position: number;
    head_position: number;
    attempts: number;
    failing_since: Date | null;
  }>`
    UPDATE event_lane l
    SET lease_owner = ${input.owner},
        lease_expires_at = now() + ${input.leaseMs} * interval '1 millisecond'
    FROM (
      SELECT sink, lane_key FROM event_lane
      WHERE sink = ${input.sink} AND active AND delivered_position < head_position
        AND lease_owner IS NULL AND next_attempt_at <= now()
      ORDER BY delivered_position
      LIMIT ${input.limit}
      FOR UPDATE SKIP LOCKED
    ) due
    WHERE l.sink = due.sink AND l.lane_key = due.lane_key
    RETURNING l.sink, l.lane_key, l.property_id, l.delivered_position, l.head_position, l.attempts, l.failing_since
  `.execute(db);
  return result.rows.map((row) => ({
    sink: row.sink,
    laneKey: row.lane_key,
    propertyId: row.property_id,
    deliveredPosition: Number(row.delivered_position),
    headPosition: Number(row.head_position),
    attempts: row.attempts,
    failingSince: row.failing_since,
  }));
}

/** The lane's next events in position order, optionally only some types (webhook subscriptions). */
export async function laneEvents(
  db: Db,
  lane: ClaimedLane,
  input: { limit: number; types?: readonly string[] },
): Promise<SequencedEvent[]> {
  let query = db
    .selectFrom('outbox_event')
    .select(['position', 'id', 'type', 'property_id', 'envelope'])
    .where('position', '>', lane.deliveredPosition)
    .where('position', '<=', lane.headPosition);
  query =
    lane.propertyId === null
      ? query.where('property_id', 'is', null)
      : query.where('property_id', '=', lane.propertyId);
  if (input.types) query = query.where('type', 'in', input.types.length ? [...input.types] : ['-']);
  const rows = await query.orderBy('position').limit(input.limit).execute();
  return rows.map((row) => ({
    position: Number(row.position),
    id: row.id,
    type: row.type,
    propertyId: row.property_id,
    envelope: row.envelope as unknown as CloudEvent,
  }));
}

export type LaneOutcome =
  | { ok: true; deliveredPosition: number }
  | { ok: false; deliveredPosition: number; error: string; retryInMs: number };

/**
 * Records what a round delivered and releases the lease. Guarded by the owner so a worker whose
 * lease expired (and was recovered by another) cannot move the lane; its deliveries were at
 * least once anyway. Returns false when the lease had been lost.
 */
export async function completeLane(
  db: Db,
  lane: ClaimedLane,
  owner: string,
  outcome: LaneOutcome,
): Promise<boolean> {
  const progressed = outcome.deliveredPosition > lane.deliveredPosition;
  let update = db
    .updateTable('event_lane')
    .set({
      delivered_position: sql`greatest(delivered_position, ${outcome.deliveredPosition})`,
      lease_owner: null,
      lease_expires_at: null,
      updated_at: sql`now()`,
    })
    .where('sink', '=', lane.sink)
    .where('lane_key', '=', lane.laneKey)
    .where('lease_owner', '=', owner);
  if (outcome.ok) {
    update = update.set({ attempts: 0, failing_since: null, last_error: null, next_attempt_at: sql`now()` });
  } else {
    // Progress means a different event is now failing: its count starts again.
    update = update.set({
      attempts: progressed ? 1 : sql`attempts + 1`,
      failing_since: progressed ? sql`now()` : sql`coalesce(failing_since, now())`,
      last_error: outcome.error.slice(0, 2000),
      next_attempt_at: sql`now() + ${outcome.retryInMs} * interval '1 millisecond'`,
    });
  }
  const result = await update.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Stops a lane (its webhook subscription is disabled or gone); it keeps its position. */
export async function deactivateLane(db: Db, lane: ClaimedLane, owner: string): Promise<void> {
  await db
    .updateTable('event_lane')
    .set({ active: false, lease_owner: null, lease_expires_at: null, updated_at: sql`now()` })
    .where('sink', '=', lane.sink)
    .where('lane_key', '=', lane.laneKey)
    .where('lease_owner', '=', owner)
    .execute();
}

/** Frees lanes whose lease ran out: their worker crashed or stalled. */
export async function recoverExpiredLeases(
  db: Db,
): Promise<Array<{ sink: string; lane_key: string; lease_owner: string | null }>> {
  return db
    .updateTable('event_lane')
    .set({ lease_owner: null, lease_expires_at: null })
    .where('lease_owner', 'is not', null)
    .where('lease_expires_at', '<', sql<Date>`now()`)
    .returning(['sink', 'lane_key', 'lease_owner'])
    .execute();
}

/** One sink's delivery backlog, for monitoring. */
export interface SinkBacklog {
  sink: string;
  lanesBehind: number;
  lanesFailing: number;
  /** Age of the oldest event some lane of the sink has yet to deliver; 0 when all are delivered. */
  lagSeconds: number;
}

/**
 * How far each sink's active lanes are behind. A lane's oldest pending event is the first one in
 * (delivered, head] of its property (or of no property), of the subscribed types for a webhook:
 * one probe of the (property_id, position) index per lane, whatever the size of the backlog.
 */
export async function readSinkBacklogs(db: Db): Promise<SinkBacklog[]> {
  const result = await sql<{
    sink: string;
    lanes_behind: number;
    lanes_failing: number;
    lag_seconds: number;
  }>`
    SELECT l.sink,
      count(*) FILTER (WHERE l.delivered_position < l.head_position)::int AS lanes_behind,
      count(*) FILTER (WHERE l.failing_since IS NOT NULL)::int AS lanes_failing,
      coalesce(extract(epoch FROM now() - min(oldest.created_at)), 0)::float8 AS lag_seconds
    FROM event_lane l
    LEFT JOIN webhook_subscription ws ON l.sink = 'webhook' AND ws.id::text = l.lane_key
    CROSS JOIN LATERAL (
      SELECT CASE
        WHEN l.delivered_position >= l.head_position THEN NULL
        WHEN l.property_id IS NULL THEN (
          SELECT o.created_at FROM outbox_event o
          WHERE o.property_id IS NULL AND o.position > l.delivered_position AND o.position <= l.head_position
          ORDER BY o.position LIMIT 1)
        ELSE (
          SELECT o.created_at FROM outbox_event o
          WHERE o.property_id = l.property_id
            AND o.position > l.delivered_position AND o.position <= l.head_position
            AND (ws.id IS NULL OR o.type = ANY (ws.event_types))
          ORDER BY o.position LIMIT 1)
      END AS created_at
    ) oldest
    WHERE l.active
    GROUP BY l.sink
    ORDER BY l.sink
  `.execute(db);
  return result.rows.map((row) => ({
    sink: row.sink,
    lanesBehind: row.lanes_behind,
    lanesFailing: row.lanes_failing,
    lagSeconds: row.lag_seconds,
  }));
}
