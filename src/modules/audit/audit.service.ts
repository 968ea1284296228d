import { ValidationError } from '../../app/errors.ts';
import type { Db } from '../../db/database.ts';
import { type Actor, assertCanSeeProperty, assertRole, propertyScope } from '../auth/auth.context.ts';
import { listAudit } from './audit.repository.ts';

export interface AuditQuery {
  limit: number;
  cursor?: string;
  property_id?: string;
  entity_type?: string;
  entity_id?: string;
  actor_id?: string;
}

function decodeAuditCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const id = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new ValidationError('The cursor is not valid; use next_cursor from a previous page.', [
      { pointer: '/querystring/cursor', message: 'is not a valid cursor' },
    ]);
  }
  return id;
}

/** The audit log, newest first, limited to the properties the user administers. */
export async function listAuditEntries(db: Db, actor: Actor, query: AuditQuery) {
  assertRole(actor, 'SUPER_ADMIN', 'PROPERTY_ADMIN');
  if (query.property_id) assertCanSeeProperty(actor, query.property_id);
  const rows = await listAudit(db, {
    propertyIds: propertyScope(actor),
    propertyId: query.property_id,
    entityType: query.entity_type,
    entityId: query.entity_id,
    actorId: query.actor_id,
    afterId: decodeAuditCursor(query.cursor),
    limit: query.limit,
  });
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    results: page.map((row) => ({
      ...row,
      id: String(row.id),
      diff: row.diff as Record<string, unknown> | null,
      created_at: row.created_at.toISOString(),
    })),
    next_cursor:
      rows.length > query.limit && last ? Buffer.from(String(last.id)).toString('base64url') : null,
  };
}
