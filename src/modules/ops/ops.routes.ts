import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { Type } from 'typebox';
import { ServiceUnavailableError } from '../../app/errors.ts';
import { migrationsCurrent } from '../../db/migrate.ts';

const Health = Type.Object({
  status: Type.String(),
  checks: Type.Optional(Type.Record(Type.String(), Type.String())),
});

export const opsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    { schema: { tags: ['ops'], summary: 'The process is up', security: [], response: { 200: Health } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['ops'],
        summary: 'The database is reachable and migrations are current',
        security: [],
        response: { 200: Health },
      },
    },
    async () => {
      try {
        await sql`SELECT 1`.execute(app.db);
      } catch {
        throw new ServiceUnavailableError('The database is not reachable.');
      }
      if (!(await migrationsCurrent(app.db)))
        throw new ServiceUnavailableError('Database migrations are pending.');
      return { status: 'ready', checks: { database: 'ok', migrations: 'current' } };
    },
  );
};
