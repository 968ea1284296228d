import type { PmsErrorType } from '../integrations.errors.ts';
import type { ErrorRow } from './quarantine.repository.ts';
import type { RunRow } from './sync.repository.ts';

export interface RunView {
  id: string;
  property_id: string;
  trigger: RunRow['trigger'];
  status: RunRow['status'];
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
  pages: number;
  fetched: number;
  created: number;
  updated: number;
  unchanged: number;
  quarantined: number;
  cursor_before: string | null;
  cursor_after: string | null;
  schema_drift: RunRow['schema_drift'];
  warnings: RunRow['warnings'];
  timings: RunRow['timings'];
  error: string | null;
  full_listing: boolean;
  reconciliation: RunRow['reconciliation'];
}

export function toRunView(row: RunRow): RunView {
  return {
    id: row.id,
    property_id: row.property_id,
    trigger: row.trigger,
    status: row.status,
    queued_at: row.queued_at.toISOString(),
    started_at: row.started_at?.toISOString() ?? null,
    finished_at: row.finished_at?.toISOString() ?? null,
    pages: row.pages,
    fetched: row.fetched,
    created: row.created,
    updated: row.updated,
    unchanged: row.unchanged,
    quarantined: row.quarantined,
    cursor_before: row.cursor_before,
    cursor_after: row.cursor_after,
    schema_drift: row.schema_drift,
    warnings: row.warnings,
    timings: row.timings,
    error: row.error,
    full_listing: row.full_listing,
    reconciliation: row.reconciliation,
  };
}

export function toErrorView(row: ErrorRow) {
  return {
    id: row.id,
    sync_run_id: row.sync_run_id,
    property_id: row.property_id,
    stage: row.stage,
    error_type: row.error_type as PmsErrorType,
    field: row.field,
    message: row.message,
    external_id: row.external_id,
    raw: row.raw,
    replay_status: row.replay_status,
    replayed_at: row.replayed_at?.toISOString() ?? null,
    replay_run_id: row.replay_run_id,
    created_at: row.created_at.toISOString(),
  };
}
