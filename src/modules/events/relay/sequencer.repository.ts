import { sql } from 'kysely';
import type { Db } from '../../../db/database.ts';
import { LANES_CHANNEL } from '../pg-listener.ts';

export interface SequenceResult {
  /** False when another sequencer held the lock (only with `wait: false`). */
  ran: boolean;
  sequenced: number;
}

/**
 * Numbers committed outbox rows that have no position yet, in seq order, and moves the head of
 * every lane that must deliver them. Only one sequencer runs at a time (row lock on
 * event_sequencer), and each run sees every transaction the previous run saw plus the ones that
 * committed since, so positions grow in visibility order: a row whose transaction commits late
 * simply gets a later position, and a cursor over positions never skips it.
 */
export async function sequencePending(
  db: Db,
  options: { wait: boolean; batch: number },
): Promise<SequenceResult> {
  return db.transaction().execute(async (tx) => {
    const lock = tx.selectFrom('event_sequencer').select('last_position').where('id', '=', 1).forUpdate();
    const sequencer = await (options.wait ? lock : lock.skipLocked()).executeTakeFirst();
    if (!sequencer) return { ran: false, sequenced: 0 };

    // A new statement takes a new snapshot (READ COMMITTED): it sees the previous run's positions.
    const result = await sql<{ sequenced: number | string }>`
      WITH pending AS (
        SELECT seq FROM outbox_event WHERE position IS NULL ORDER BY seq LIMIT ${options.batch}
      ), numbered AS (
        SELECT seq, ${sequencer.last_position}::bigint + row_number() OVER (ORDER BY seq) AS position
        FROM pending
      ), sequenced AS (
        UPDATE outbox_event o SET position = n.position FROM numbered n WHERE o.seq = n.seq
        RETURNING o.position, o.property_id, o.type
      ), advanced AS (
        UPDATE event_sequencer SET last_position = (SELECT max(position) FROM sequenced)
        WHERE id = 1 AND EXISTS (SELECT 1 FROM sequenced)
      ), broker_lanes AS (
        -- A lane is born at its first event: earlier events predate the sink (or the property).
        INSERT INTO event_lane (sink, lane_key, property_id, delivered_position, head_position)
        SELECT s.name, coalesce(e.property_id::text, '-'), e.property_id, min(e.position) - 1, max(e.position)
        FROM sequenced e CROSS JOIN event_sink s
        WHERE s.enabled
        GROUP BY s.name, e.property_id
        ON CONFLICT (sink, lane_key) DO UPDATE
          SET head_position = greatest(event_lane.head_position, excluded.head_position), updated_at = now()
      ), webhook_lanes AS (
        UPDATE event_lane l SET head_position = greatest(l.head_position, w.head), updated_at = now()
        FROM (
          SELECT ws.id, max(e.position) AS head
          FROM sequenced e JOIN webhook_subscription ws
            ON ws.property_id = e.property_id AND e.type = ANY (ws.event_types)
          GROUP BY ws.id
        ) w
        WHERE l.sink = 'webhook' AND l.lane_key = w.id::text
      )
      SELECT count(*) AS sequenced FROM sequenced
    `.execute(tx);
    const sequenced = Number(result.rows[0]?.sequenced ?? 0);
    if (sequenced > 0) await sql`SELECT pg_notify(${LANES_CHANNEL}, '')`.execute(tx);
    return { ran: true, sequenced };
  });
}

/** Enables a broker sink; it receives the events sequenced from now on. */
export async function registerSink(db: Db, name: 'nats' | 'kafka'): Promise<void> {
  await db
    .insertInto('event_sink')
    .values({ name })
    .onConflict((oc) => oc.column('name').doUpdateSet({ enabled: true }))
    .execute();
}

/** The newest position handed out; a new webhook lane starts here. */
export async function lastPosition(db: Db): Promise<number> {
  const row = await db
    .selectFrom('event_sequencer')
    .select('last_position')
    .where('id', '=', 1)
    .executeTakeFirstOrThrow();
  return Number(row.last_position);
}

/** Committed events still waiting for a position, and the age of the oldest (0 when none). */
export async function readUnsequenced(db: Db): Promise<{ events: number; oldestAgeSeconds: number }> {
  const result = await sql<{ events: number; oldest_age_seconds: number }>`
    SELECT count(*)::int AS events,
      coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_age_seconds
    FROM outbox_event WHERE position IS NULL
  `.execute(db);
  const row = result.rows[0]!;
  return { events: row.events, oldestAgeSeconds: row.oldest_age_seconds };
}
