import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext } from '../../app/request-context.ts';
import { IdParams, Page } from '../../app/schemas.ts';
import {
  CreateRatePlanBody,
  DailyRatesResult,
  GridQuery,
  ListRatePlansQuery,
  QuoteQuery,
  RatePlan,
  RateQuote,
  RatesGrid,
  SetDailyRatesBody,
  UpdateRatePlanBody,
} from './rates.schemas.ts';
import { createRatesService } from './rates.service.ts';

const tags = ['rates'];
const security = [{ bearerAuth: [] }];

export const ratesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const rates = createRatesService(app.db);

  app.get(
    '/api/rates/plans/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'List rate plans',
        security,
        querystring: ListRatePlansQuery,
        response: { 200: Page(RatePlan) },
      },
    },
    async (request) => rates.listPlans(request.actor, { ...request.query, limit: request.query.limit ?? 50 }),
  );

  app.post(
    '/api/rates/plans/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Create a rate plan (a base plan, or one derived from a parent by an offset)',
        security,
        body: CreateRatePlanBody,
        response: { 201: RatePlan },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await rates.createPlan(requestContext(request), request.body)),
  );

  app.get(
    '/api/rates/plans/:id/',
    {
      onRequest: app.authenticate,
      schema: { tags, summary: 'Get a rate plan', security, params: IdParams, response: { 200: RatePlan } },
    },
    async (request) => rates.getPlan(request.actor, request.params.id),
  );

  app.patch(
    '/api/rates/plans/:id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Update a rate plan',
        security,
        params: IdParams,
        body: UpdateRatePlanBody,
        response: { 200: RatePlan },
      },
    },
    async (request) => rates.updatePlan(requestContext(request), request.params.id, request.body),
  );

  app.delete(
    '/api/rates/plans/:id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Delete a rate plan that no reservation or derived plan uses',
        security,
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await rates.deletePlan(requestContext(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.put(
    '/api/rates/daily/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Set amounts and restrictions over a date range, optionally on some weekdays only',
        security,
        body: SetDailyRatesBody,
        response: { 200: DailyRatesResult },
      },
    },
    async (request) => rates.setDailyRates(requestContext(request), request.body),
  );

  app.get(
    '/api/rates/grid/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Rate plans × room types × nights with amounts and restrictions',
        security,
        querystring: GridQuery,
        response: { 200: RatesGrid },
      },
    },
    async (request) => rates.grid(request.actor, request.query),
  );

  app.get(
    '/api/rates/quote/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Price a stay of one unit on a rate plan, with the restrictions it breaks',
        security,
        querystring: QuoteQuery,
        response: { 200: RateQuote },
      },
    },
    async (request) => rates.quote(request.actor, request.query),
  );
};
