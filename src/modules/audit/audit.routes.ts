import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Page, PageQuery, Timestamp, Uuid } from '../../app/schemas.ts';
import { listAuditEntries } from './audit.service.ts';

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
  actor_role: Nullable(Type.String({ description: "The user's role, API_KEY, or SYSTEM" })),
  actor_name: Nullable(Type.String({ description: "The API key's name when a key made the change" })),
  action: Type.String(),
  entity_type: Type.String(),
  entity_id: Nullable(Type.String()),
  diff: Nullable(Type.Record(Type.String(), Type.Unknown(), { description: '{field: [before, after]}' })),
  request_id: Nullable(Type.String()),
  created_at: Timestamp,
});

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/audit/',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['audit'],
        summary: 'Audit log of mutations (administrators; scoped to their properties)',
        security: [{ bearerAuth: [] }],
        querystring: AuditQuery,
        response: { 200: Page(AuditEntry) },
      },
    },
    async (request) =>
      listAuditEntries(app.db, request.actor, { ...request.query, limit: request.query.limit ?? 50 }),
  );
};
