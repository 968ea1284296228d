import { sql } from 'kysely';
import type { Db, Tx } from '../../../db/database.ts';
import type { SyncRunStatus } from '../../../db/schema.ts';
import type { ReconciliationReport } from './reconcile.ts';

export interface RunRow {
  id: string;
  property_id: string;
  connection_id: string;
  config_id: string;
  trigger: 'schedule' | 'manual' | 'replay';
  status: SyncRunStatus;
  queued_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  pages: number;
  fetched: number;
  created: number;
  updated: number;
  unchanged: number;
  quarantined: number;
  cursor_before: string | null;
  cursor_after: string | null;
  schema_drift: { new_fields: string[]; vanished_fields: string[] } | null;
  warnings: Record<string, unknown> | null;
  timings: Record<string, number> | null;
  error: string | null;
  requested_by: string | null;
  replay_filter: { sync_run_id?: string; error_ids?: string[] } | null;
  /** Reads every booking from the initial cursor (v2), and reconciles those the PMS no longer lists. */
  full_listing: boolean;
  reconciliation: ReconciliationReport | null;
  sort_key: string;
}

const SORT_KEY = sql<string>`to_char(queued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`.as(
  'sort_key',
);
const runColumns = [
  'id',
  'property_id',
  'connection_id',
  'config_id',
  'trigger',
  'status',
  'queued_at',
  'started_at',
  'finished_at',
  'pages',
  'fetched',
  'created',
  'updated',
  'unchanged',
  'quarantined',
  'cursor_before',
  'cursor_after',
  'schema_drift',
  'warnings',
  'timings',
  'error',
  'requested_by',
  'replay_filter',
  'full_listing',
  'reconciliation',
] as const;

export function getRun(db: Db | Tx, id: string): Promise<RunRow | undefined> {
  return db
    .selectFrom('sync_run')
    .select([...runColumns, SORT_KEY])
    .where('id', '=', id)
    .executeTakeFirst() as Promise<RunRow | undefined>;
}

/**
 * Queues a run for a hotel, or returns the one already queued or running (the partial unique
 * index allows one): two requests for the same hotel join one run.
 */
export async function queueRun(
  db: Db | Tx,
  input: {
    property_id: string;
    connection_id: string;
    config_id: string;
    trigger: RunRow['trigger'];
    requested_by: string | null;
    cursor_before: string | null;
    replay_filter?: RunRow['replay_filter'];
    full_listing?: boolean;
  },
): Promise<{ run: RunRow; joined: boolean }> {
  const values = {
    ...input,
    replay_filter: input.replay_filter ? JSON.stringify(input.replay_filter) : null,
  };
  for (;;) {
    const inserted = await db
      .insertInto('sync_run')
      .values(values)
      .onConflict((oc) => oc.column('connection_id').where('status', 'in', ['queued', 'running']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) return { run: (await getRun(db, inserted.id))!, joined: false };
    const active = (await db
      .selectFrom('sync_run')
      .select([...runColumns, SORT_KEY])
      .where('connection_id', '=', input.connection_id)
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirst()) as RunRow | undefined;
    // The active run may have finished in between: then queue again.
    if (active) return { run: active, joined: true };
  }
}

/** Takes a queued run for this process; undefined when another one took it first. */
export function claimRun(db: Db, id: string): Promise<RunRow | undefined> {
  return db
    .updateTable('sync_run')
    .set({ status: 'running', started_at: new Date(), heartbeat_at: new Date() })
    .where('id', '=', id)
    .where('status', '=', 'queued')
    .returning([...runColumns, SORT_KEY])
    .executeTakeFirst() as Promise<RunRow | undefined>;
}

/** Queued runs nobody is working on (oldest first), skipping those another worker is claiming. */
export async function queuedRunIds(db: Db, limit: number, olderThanSeconds: number): Promise<string[]> {
  const rows = await db
    .selectFrom('sync_run')
    .select('id')
    .where('status', '=', 'queued')
    .where('queued_at', '<', sql<Date>`now() - make_interval(secs => ${olderThanSeconds})`)
    .orderBy('queued_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

export interface Progress {
  pages: number;
  fetched: number;
  created: number;
  updated: number;
  unchanged: number;
  quarantined: number;
}

export async function addProgress(tx: Tx, id: string, delta: Progress): Promise<void> {
  await tx
    .updateTable('sync_run')
    .set((eb) => ({
      pages: eb('pages', '+', delta.pages),
      fetched: eb('fetched', '+', delta.fetched),
      created: eb('created', '+', delta.created),
      updated: eb('updated', '+', delta.updated),
      unchanged: eb('unchanged', '+', delta.unchanged),
      quarantined: eb('quarantined', '+', delta.quarantined),
      heartbeat_at: new Date(),
    }))
    .where('id', '=', id)
    .execute();
}

export async function finishRun(
  tx: Tx,
  id: string,
  outcome: {
    status: 'succeeded' | 'partial' | 'failed';
    cursor_after: string | null;
    schema_drift: RunRow['schema_drift'];
    warnings: RunRow['warnings'];
    timings: RunRow['timings'];
    error: string | null;
  },
): Promise<RunRow | undefined> {
  return (await tx
    .updateTable('sync_run')
    .set({
      ...outcome,
      schema_drift: outcome.schema_drift === null ? null : JSON.stringify(outcome.schema_drift),
      warnings: outcome.warnings === null ? null : JSON.stringify(outcome.warnings),
      timings: outcome.timings === null ? null : JSON.stringify(outcome.timings),
      finished_at: new Date(),
    })
    .where('id', '=', id)
    // A run failed as abandoned stays failed: its late outcome changes nothing.
    .where('status', '=', 'running')
    .returning([...runColumns, SORT_KEY])
    .executeTakeFirst()) as RunRow | undefined;
}

/**
 * Locks the run for this transaction and says whether it is still running: a run failed as
 * abandoned while its process was only stalled must not write another batch.
 */
export async function lockRunning(tx: Tx, id: string): Promise<boolean> {
  const row = await tx
    .selectFrom('sync_run')
    .select('status')
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return row?.status === 'running';
}

/** A live run says so, whether or not it has made progress (a slow PMS page, a long batch). */
export async function beat(db: Db, id: string): Promise<void> {
  await db
    .updateTable('sync_run')
    .set({ heartbeat_at: new Date() })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .execute();
}

/**
 * Runs whose process stopped beating (a crash, a kill) are failed, so the hotel can sync again;
 * all of them, or one connection's. Returns them, for the caller to finish as any failed run.
 */
export async function failAbandonedRuns(
  tx: Tx,
  silentSeconds: number,
  connectionId?: string,
): Promise<RunRow[]> {
  let query = tx
    .updateTable('sync_run')
    .set({
      status: 'failed',
      finished_at: new Date(),
      error: 'abandoned: its process stopped (no heartbeat)',
    })
    .where('status', '=', 'running')
    .where('heartbeat_at', '<', sql<Date>`now() - make_interval(secs => ${silentSeconds})`);
  if (connectionId) query = query.where('connection_id', '=', connectionId);
  return (await query.returning([...runColumns, SORT_KEY]).execute()) as RunRow[];
}

export async function recordLastRun(
  tx: Tx,
  connectionId: string,
  run: { id: string; status: string },
  cursor: string | null | undefined,
): Promise<void> {
  await tx
    .updateTable('pms_connection')
    .set((eb) => ({
      last_run_id: run.id,
      last_run_status: run.status,
      // One clock (the transaction's) for both, so the next run is exactly one schedule later.
      last_run_at: sql<Date>`now()`,
      next_run_at: sql<Date>`now() + make_interval(secs => ${eb.ref('schedule_seconds')})`,
      ...(cursor !== undefined ? { cursor } : {}),
    }))
    .where('id', '=', connectionId)
    .execute();
}

/** Enabled connections whose next run is due and that have no active run. */
export async function dueConnections(db: Db, limit: number) {
  return db
    .selectFrom('pms_connection as c')
    .select(['c.id', 'c.property_id', 'c.config_id', 'c.cursor'])
    .where('c.enabled', '=', true)
    .where('c.next_run_at', '<=', new Date())
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('sync_run as r')
            .select('r.id')
            .whereRef('r.connection_id', '=', 'c.id')
            .where('r.status', 'in', ['queued', 'running']),
        ),
      ),
    )
    .orderBy('c.next_run_at')
    .limit(limit)
    .execute();
}

export interface RunFilter {
  propertyIds: string[] | null;
  propertyId?: string;
  status?: SyncRunStatus;
  before?: { sortKey: string; id: string };
  limit: number;
}

/** Newest first. */
export function listRuns(db: Db, filter: RunFilter): Promise<RunRow[]> {
  let query = db.selectFrom('sync_run').select([...runColumns, SORT_KEY]);
  if (filter.propertyIds !== null) {
    if (filter.propertyIds.length === 0) return Promise.resolve([]);
    query = query.where('property_id', 'in', filter.propertyIds);
  }
  if (filter.propertyId) query = query.where('property_id', '=', filter.propertyId);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.before) {
    const { sortKey, id } = filter.before;
    query = query.where(
      sql<boolean>`(queued_at, id) < (${sortKey}::timestamp AT TIME ZONE 'UTC', ${id}::uuid)`,
    );
  }
  return query
    .orderBy('queued_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit + 1)
    .execute() as Promise<RunRow[]>;
}

/**
 * An intermediate batch of a run may commit without waiting for its WAL flush: if a crash loses
 * it, the cursor (saved only by the run's last, fully durable transaction) has not moved, so the
 * next run fetches those records again and the idempotent upsert writes them again.
 */
export async function commitWithoutFlush(tx: Tx): Promise<void> {
  await sql`SET LOCAL synchronous_commit = off`.execute(tx);
}

/** Saves a connection's cursor mid-run (a committed window span), in the transaction that commits it. */
export async function saveCursor(tx: Tx, connectionId: string, cursor: string): Promise<void> {
  await tx.updateTable('pms_connection').set({ cursor }).where('id', '=', connectionId).execute();
}
