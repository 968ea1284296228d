import { get, type Page, patch, post, put } from './api.ts';

/** The integration API (DESIGN.md §5, §8) in one place, so the screens do not repeat its paths. */
const BASE = '/api/integrations/pms';

export interface PmsConfig {
  id: string;
  pms_type: string;
  version: string;
  description: string | null;
  checksum: string;
  origin: 'upload' | 'shipped';
  created_at: string;
  updated_at: string;
  document?: Record<string, unknown>;
}

export interface Connection {
  id: string;
  property_id: string;
  pms_type: string;
  version: string;
  base_url: string;
  hotel_external_id: string;
  secret_names: string[];
  schedule_seconds: number;
  enabled: boolean;
  cursor: string | null;
  next_run_at: string;
  last_run: { id: string; status: string; at: string | null } | null;
  /** The hotel's value maps by name: the PMS's value → this hotel's (config format v2). */
  value_maps: ValueMaps;
}

export type ValueMaps = Record<string, Record<string, string>>;
/** RFC 7396: null removes an entry, or a whole map. */
export type ValueMapsPatch = Record<string, Record<string, string | null> | null>;

/** The value maps a config's value_map transforms read (the connection must carry each). */
export function valueMapsOf(document: Record<string, unknown> | undefined): string[] {
  const names = new Set<string>();
  const visit = (mappings: unknown) => {
    for (const mapping of Object.values((mappings ?? {}) as Record<string, { transform?: unknown }>)) {
      const steps = Array.isArray(mapping?.transform) ? mapping.transform : [mapping?.transform];
      for (const step of steps) {
        const spec = step as { name?: unknown; map?: unknown } | undefined;
        if (spec?.name === 'value_map' && typeof spec.map === 'string') names.add(spec.map);
      }
    }
  };
  visit(document?.field_mappings);
  visit((document?.rooms as { field_mappings?: unknown } | undefined)?.field_mappings);
  return [...names].sort();
}

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'partial' | 'failed';

export interface SyncRun {
  id: string;
  property_id: string;
  trigger?: string;
  status: RunStatus;
  queued_at?: string;
  started_at: string | null;
  finished_at: string | null;
  pages?: number;
  fetched: number;
  created: number;
  updated: number;
  unchanged: number;
  quarantined: number;
  cursor_before?: string | null;
  cursor_after?: string | null;
  schema_drift?: { new_fields: string[]; vanished_fields: string[] } | null;
  error: string | null;
}

export interface QuarantinedRecord {
  id: string;
  sync_run_id: string;
  property_id: string;
  stage: string;
  error_type: string;
  field?: string | null;
  message: string;
  external_id: string | null;
  raw: unknown;
  replay_status?: 'pending' | 'ingested' | 'failed';
  replayed_at?: string | null;
  created_at: string;
}

export interface PreviewResult {
  mapped: number;
  failed: number;
  warnings: string[];
  results: Array<{
    index: number;
    booking: Record<string, unknown> | null;
    error: {
      stage: string;
      error_type: string;
      field: string | null;
      message: string;
      external_id: string | null;
    } | null;
  }>;
}

export const FINISHED: RunStatus[] = ['succeeded', 'partial', 'failed'];

export const integrations = {
  configs: () => get<{ results: PmsConfig[] }>(`${BASE}/configs/`),
  config: (pmsType: string, version: string) =>
    get<PmsConfig>(`${BASE}/configs/${encodeURIComponent(pmsType)}/${encodeURIComponent(version)}/`),
  upload: async (document: unknown) => {
    const answer = await post<PmsConfig | { config: PmsConfig }>(`${BASE}/configs/`, document);
    return 'config' in answer ? answer.config : answer;
  },
  preview: (config: unknown, records: unknown[], propertyId?: string) =>
    post<PreviewResult>(`${BASE}/configs/preview/`, { config, records, property_id: propertyId }),
  connection: (propertyId: string) => get<Connection>(`${BASE}/connections/${propertyId}/`),
  saveConnection: async (propertyId: string, body: unknown) => {
    const answer = await put<Connection | { connection: Connection }>(
      `${BASE}/connections/${propertyId}/`,
      body,
    );
    return 'connection' in answer ? answer.connection : answer;
  },
  patchValueMaps: (propertyId: string, body: ValueMapsPatch) =>
    patch<Connection>(`${BASE}/connections/${propertyId}/value-maps/`, body),
  sync: (propertyId: string) => post<SyncRun>(`${BASE}/sync/`, { property_id: propertyId }),
  run: (id: string) => get<SyncRun>(`${BASE}/sync-runs/${id}/`),
  runs: (propertyId: string, cursor: string | null) =>
    get<Page<SyncRun>>(`${BASE}/sync-runs/`, { property_id: propertyId, cursor, limit: 25 }),
  errors: (query: { propertyId: string; syncRunId?: string; replayStatus?: string }, cursor: string | null) =>
    get<Page<QuarantinedRecord>>(`${BASE}/errors/`, {
      property_id: query.propertyId,
      sync_run_id: query.syncRunId,
      replay_status: query.replayStatus,
      cursor,
      limit: 25,
    }),
  replay: (body: { property_id: string; sync_run_id?: string; error_ids?: string[] }) =>
    post<SyncRun>(`${BASE}/errors/replay/`, { ...body, wait: true }),
};
