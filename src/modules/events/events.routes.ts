import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ReplayPage, ReplayQuery } from './events.schemas.ts';
import { createEventsService } from './events.service.ts';
import { registerRelayMetrics } from './relay/relay.metrics.ts';

export const eventsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const events = createEventsService(app.db, { retentionDays: app.config.eventRetentionDays });
  registerRelayMetrics(app, app.db);

  app.get(
    '/api/events/',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['events'],
        summary: 'Replay committed events in order (catch up without a broker)',
        description:
          'Events after `after` in the order every sink delivers them, limited to the properties you can see. ' +
          'Read on with `after=last_event_id` while `has_more` is true. An `after` older than the event retention ' +
          '(EVENT_RETENTION_DAYS) that the history no longer holds is 410 `EVENT_EXPIRED`.',
        security: [{ bearerAuth: [] }],
        querystring: ReplayQuery,
        response: { 200: ReplayPage },
      },
    },
    async (request) => events.replay(request.actor, { ...request.query, limit: request.query.limit ?? 100 }),
  );
};
