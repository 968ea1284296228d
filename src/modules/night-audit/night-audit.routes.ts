import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requestContext } from '../../app/request-context.ts';
import { NightAuditParams, NightAuditResult } from './night-audit.schemas.ts';
import { createNightAuditService } from './night-audit.service.ts';

/** The manual trigger of a property's night audit (the worker runs it on its own schedule). */
export const nightAuditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const audits = createNightAuditService(
    app.db,
    { policy: app.config.lockPolicy, timeoutMs: app.config.lockTimeoutMs },
    { horizonDays: app.config.inventoryHorizonDays },
  );

  app.post(
    '/api/properties/:id/night-audit/',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['properties'],
        summary: 'Run the night audit of a property now (its administrators)',
        description:
          "Rolls the business date when the hotel's local day has passed, marks that day's no-shows with their " +
          'fees, and loads the calendar horizon. Idempotent: when nothing is due it only reports. ' +
          '409 NIGHT_AUDIT_RUNNING while another audit of the property runs.',
        security: [{ bearerAuth: [] }],
        params: NightAuditParams,
        response: { 200: NightAuditResult },
      },
    },
    async (request) => audits.run(requestContext(request), request.params.id),
  );
};
