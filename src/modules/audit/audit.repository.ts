import type { Db, Tx } from '../../db/database.ts';
import type { Actor } from '../auth/auth.context.ts';

/** Who is acting and under which request id; passed from the route to every service call that writes. */
export interface RequestContext {
  actor: Actor | null;
  requestId: string | null;
}

export const systemContext: RequestContext = { actor: null, requestId: null };

type Fields = Record<string, unknown> | null | undefined;

function normalise(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  return value;
}

/** Field-level diff: `{field: [before, after]}` for every field that changed. */
export function fieldDiff(before: Fields, after: Fields): Record<string, [unknown, unknown]> {
  const diff: Record<string, [unknown, unknown]> = {};
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  for (const key of keys) {
    if (key === 'password_hash' || key === 'updated_at' || key === 'created_at') continue;
    const a = normalise(before?.[key]);
    const b = normalise(after?.[key]);
    if (JSON.stringify(a) !== JSON.stringify(b)) diff[key] = [a ?? null, b ?? null];
  }
  return diff;
}

export interface AuditEntry {
  action: string;
  entityType: string;
  entityId: string | null;
  propertyId: string | null;
  before?: Fields;
  after?: Fields;
  diff?: Record<string, unknown>;
}

/**
 * The role an audit row records: an API key's writes read `API_KEY` (with the key's id, and its name
 * in actor_name, which the database fills: migration 0100), whatever role the key acts with.
 */
export function auditRole(actor: Actor | null): string {
  if (actor?.apiKey) return 'API_KEY';
  return actor?.role ?? 'SYSTEM';
}

/** Appends one audit row in the caller's transaction, so the record and the change commit together. */
export async function recordAudit(tx: Tx, ctx: RequestContext, entry: AuditEntry): Promise<void> {
  await tx
    .insertInto('audit_log')
    .values({
      property_id: entry.propertyId,
      actor_id: ctx.actor?.id ?? null,
      actor_role: auditRole(ctx.actor),
      action: entry.action,
      entity_type: entry.entityType,
      entity_id: entry.entityId,
      diff: JSON.stringify(entry.diff ?? fieldDiff(entry.before, entry.after)),
      request_id: ctx.requestId,
    })
    .execute();
}

export interface AuditFilter {
  propertyIds: string[] | null;
  propertyId?: string;
  entityType?: string;
  entityId?: string;
  actorId?: string;
  afterId?: number;
  limit: number;
}

export function listAudit(db: Db, filter: AuditFilter) {
  let query = db.selectFrom('audit_log').selectAll();
  if (filter.propertyIds !== null) {
    query = query.where(
      'property_id',
      'in',
      filter.propertyIds.length ? filter.propertyIds : ['00000000-0000-0000-0000-000000000000'],
    );
  }
  if (filter.propertyId) query = query.where('property_id', '=', filter.propertyId);
  if (filter.entityType) query = query.where('entity_type', '=', filter.entityType);
  if (filter.entityId) query = query.where('entity_id', '=', filter.entityId);
  if (filter.actorId) query = query.where('actor_id', '=', filter.actorId);
  // Newest first: ids only grow, so "before this id" pages backwards through history.
  if (filter.afterId !== undefined) query = query.where('id', '<', String(filter.afterId));
  return query
    .orderBy('id', 'desc')
    .limit(filter.limit + 1)
    .execute();
}
