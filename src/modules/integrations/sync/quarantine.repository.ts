import { sql } from 'kysely';
import { withNulShown } from '../../../app/unstorable.ts';
import type { Db, Tx } from '../../../db/database.ts';

export interface QuarantineInsert {
  sync_run_id: string;
  property_id: string;
  stage: string;
  error_type: string;
  field: string | null;
  message: string;
  external_id: string | null;
  raw: unknown;
  /** What the record's joins matched on its page (v2), so a replay maps it the same way. */
  context?: Record<string, unknown> | null;
}

/**
 * One statement for a batch's bad records. A record may be bad for holding a NUL character, which
 * PostgreSQL cannot store: the quarantine keeps it with each NUL shown as ␀.
 */
export async function insertErrors(tx: Tx, bad: QuarantineInsert[]): Promise<void> {
  if (bad.length === 0) return;
  const rows = bad.map(withNulShown);
  await sql`
    INSERT INTO ingestion_error (sync_run_id, property_id, stage, error_type, field, message, external_id, raw,
      context)
    SELECT * FROM unnest(
      ${rows.map((r) => r.sync_run_id)}::uuid[], ${rows.map((r) => r.property_id)}::uuid[],
      ${rows.map((r) => r.stage)}::text[], ${rows.map((r) => r.error_type)}::text[],
      ${rows.map((r) => r.field)}::text[], ${rows.map((r) => r.message)}::text[],
      ${rows.map((r) => r.external_id)}::text[], ${rows.map((r) => JSON.stringify(r.raw ?? null))}::jsonb[],
      ${rows.map((r) => (r.context ? JSON.stringify(r.context) : null))}::jsonb[]
    )`.execute(tx);
}

export interface ErrorRow {
  id: string;
  sync_run_id: string;
  property_id: string;
  stage: string;
  error_type: string;
  field: string | null;
  message: string;
  external_id: string | null;
  raw: unknown;
  replay_status: 'pending' | 'ingested' | 'failed';
  replayed_at: Date | null;
  replay_run_id: string | null;
  created_at: Date;
  sort_key: string;
}

const SORT_KEY = sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`.as(
  'sort_key',
);

export interface ErrorFilter {
  propertyIds: string[] | null;
  propertyId?: string;
  syncRunId?: string;
  replayStatus?: ErrorRow['replay_status'];
  errorType?: string;
  after?: { sortKey: string; id: string };
  limit: number;
}

export function listErrors(db: Db, filter: ErrorFilter): Promise<ErrorRow[]> {
  let query = db.selectFrom('ingestion_error').selectAll().select(SORT_KEY);
  if (filter.propertyIds !== null) {
    if (filter.propertyIds.length === 0) return Promise.resolve([]);
    query = query.where('property_id', 'in', filter.propertyIds);
  }
  if (filter.propertyId) query = query.where('property_id', '=', filter.propertyId);
  if (filter.syncRunId) query = query.where('sync_run_id', '=', filter.syncRunId);
  if (filter.replayStatus) query = query.where('replay_status', '=', filter.replayStatus);
  if (filter.errorType) query = query.where('error_type', '=', filter.errorType);
  if (filter.after) {
    const { sortKey, id } = filter.after;
    query = query.where(
      sql<boolean>`(created_at, id) > (${sortKey}::timestamp AT TIME ZONE 'UTC', ${id}::uuid)`,
    );
  }
  return query
    .orderBy('created_at')
    .orderBy('id')
    .limit(filter.limit + 1)
    .execute() as Promise<ErrorRow[]>;
}

/** Quarantined records of a hotel still waiting for a replay, oldest first. */
export function pendingErrors(
  db: Db,
  propertyId: string,
  filter: { syncRunId?: string; ids?: string[]; limit: number },
): Promise<Array<{ id: string; raw: unknown; context: unknown }>> {
  let query = db
    .selectFrom('ingestion_error')
    .select(['id', 'raw', 'context'])
    .where('property_id', '=', propertyId)
    .where('replay_status', '=', 'pending');
  if (filter.syncRunId) query = query.where('sync_run_id', '=', filter.syncRunId);
  if (filter.ids)
    query = query.where(
      'id',
      'in',
      filter.ids.length ? filter.ids : ['00000000-0000-0000-0000-000000000000'],
    );
  return query.orderBy('created_at').orderBy('id').limit(filter.limit).execute();
}

export async function markReplayed(
  tx: Tx,
  outcomes: Array<{ id: string; status: 'ingested' | 'failed' }>,
  runId: string,
): Promise<void> {
  if (outcomes.length === 0) return;
  await sql`
    UPDATE ingestion_error e
    SET replay_status = v.status, replayed_at = now(), replay_run_id = ${runId}::uuid
    FROM unnest(${outcomes.map((o) => o.id)}::uuid[], ${outcomes.map((o) => o.status)}::text[]) AS v(id, status)
    WHERE e.id = v.id`.execute(tx);
}
