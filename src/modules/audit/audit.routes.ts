import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ValidationError } from '../../app/errors.ts';
import { Page, PageQuery, Timestamp, Uuid } from '../../app/schemas.ts';
import { type Actor, assertCanSeeProperty, assertRole, propertyScope } from '../auth/auth.context.ts';
import { listAudit } from './audit.repository.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const AuditQuery = Type.Object(
  {
    ...PageQuery,
    property_id: Type.Optional(Uuid),
    entity_type: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    entity_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    actor_id: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

const AuditEntry = Type.Object({
  id: Type.String({ description: 'Grows with time' }),
  property_id: Nullable(Uuid),
  actor_id: Nullable(Uuid),
  actor_role: Nullable(Type.String()),
  action: Type.String(),
  entity_type: Type.String(),
  entity_id: Nullable(Type.String()),
  diff: Nullable(Type.Record(Type.String(), Type.Unknown(), { description: '{field: [before, after]}' })),
  request_id: Nullable(Type.String()),
  created_at: Timestamp,
});

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
async function listEntries(
  app: Parameters<FastifyPluginAsyncTypebox>[0],
  actor: Actor,
  query: {
    limit: number;
    cursor?: string;
    property_id?: string;
    entity_type?: string;
    entity_id?: string;
    actor_id?: string;
  },
) {
  assertRole(actor, 'SUPER_ADMIN', 'PROPERTY_ADMIN');
  if (query.property_id) assertCanSeeProperty(actor, query.property_id);
  const rows = await listAudit(app.db, {
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

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/audit/',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['audit'],
        summary: 'Audit log of mutations (administrators; scoped to their properties)',
        security: [{ bearerAuth: [] }],
        querystring: AuditQuery,
        response: { 200: Page(AuditEntry) },
      },
    },
    async (request) =>
      listEntries(app, request.actor, { ...request.query, limit: request.query.limit ?? 50 }),
  );
};
