import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requestContext } from '../../app/request-context.ts';
import { IdParams } from '../../app/schemas.ts';
import { createHoldService } from './inventory.holds.ts';
import {
  AdjustBody,
  AdjustResult,
  Calendar,
  CalendarQuery,
  CheckBody,
  CheckResult,
  Hold,
  HoldBody,
  PreloadBody,
  PreloadResult,
} from './inventory.schemas.ts';
import { createInventoryService } from './inventory.service.ts';

const tags = ['inventory'];
const security = [{ bearerAuth: [] }];

export const inventoryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const lock = { policy: app.config.lockPolicy, timeoutMs: app.config.lockTimeoutMs };
  const inventory = createInventoryService(app.db, lock);
  const holds = createHoldService(app.db, lock);

  app.post(
    '/api/inventory/check/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Availability of a stay, night by night, with the reasons and a quote',
        security,
        body: CheckBody,
        response: { 200: CheckResult },
      },
    },
    async (request) => inventory.check(request.actor, request.body),
  );

  app.get(
    '/api/inventory/calendar/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Inventory calendar of a property (or one room type) over a range of nights',
        security,
        querystring: CalendarQuery,
        response: { 200: Calendar },
      },
    },
    async (request) => inventory.calendar(request.actor, request.query),
  );

  app.post(
    '/api/inventory/preload/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Create the missing calendar nights of a room type or a property (idempotent)',
        security,
        body: PreloadBody,
        response: { 200: PreloadResult },
      },
    },
    async (request) => inventory.preload(requestContext(request), request.body),
  );

  app.post(
    '/api/inventory/adjust/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Change capacity, out-of-order units, overbooking limit or stop-sell over nights',
        description:
          'Property administrators only. All nights change or none: a night that would sell or hold more ' +
          'than its new capacity refuses the change with 409 INVENTORY_CONFLICT naming the night.',
        security,
        body: AdjustBody,
        response: { 200: AdjustResult },
      },
    },
    async (request) => inventory.adjust(requestContext(request), request.body),
  );

  app.post(
    '/api/inventory/holds/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Hold units of a room type for some nights for a few minutes',
        security,
        body: HoldBody,
        response: { 201: Hold },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await holds.create(requestContext(request), request.body)),
  );

  app.get(
    '/api/inventory/holds/:id/',
    {
      onRequest: app.authenticate,
      schema: { tags, summary: 'A hold', security, params: IdParams, response: { 200: Hold } },
    },
    async (request) => holds.get(request.actor, request.params.id),
  );

  app.delete(
    '/api/inventory/holds/:id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Release a hold (idempotent); returns it released',
        security,
        params: IdParams,
        response: { 200: Hold },
      },
    },
    async (request) => holds.release(requestContext(request), request.params.id),
  );
};
