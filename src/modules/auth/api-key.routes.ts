import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requestContext } from '../../app/request-context.ts';
import { IdParams, Page } from '../../app/schemas.ts';
import {
  ApiKey,
  ApiKeyUsage,
  ApiKeyWithSecret,
  CreateApiKeyBody,
  ListApiKeysQuery,
  RotateApiKeyBody,
  UpdateApiKeyBody,
  UsageQuery,
} from './api-key.schemas.ts';

const tags = ['api keys'];
const security = [{ bearerAuth: [] }];

/** Partners' API keys, managed by administrators (docs/api.md, "Partner credentials"). */
export const apiKeyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/auth/api-keys/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'List API keys (administrators; a PROPERTY_ADMIN sees the keys limited to its properties)',
        security,
        querystring: ListApiKeysQuery,
        response: { 200: Page(ApiKey) },
      },
    },
    async (request) =>
      app.apiKeys.list(request.actor, { ...request.query, limit: request.query.limit ?? 50 }),
  );

  app.post(
    '/api/auth/api-keys/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Create an API key; the answer holds the key, shown this once',
        security,
        body: CreateApiKeyBody,
        response: { 201: ApiKeyWithSecret },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await app.apiKeys.create(requestContext(request), request.body)),
  );

  app.get(
    '/api/auth/api-keys/:id/',
    {
      onRequest: app.authenticate,
      schema: { tags, summary: 'Get an API key', security, params: IdParams, response: { 200: ApiKey } },
    },
    async (request) => app.apiKeys.get(request.actor, request.params.id),
  );

  app.patch(
    '/api/auth/api-keys/:id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Rename an API key, or change its rate limit or expiry',
        security,
        params: IdParams,
        body: UpdateApiKeyBody,
        response: { 200: ApiKey },
      },
    },
    async (request) => app.apiKeys.update(requestContext(request), request.params.id, request.body),
  );

  app.post(
    '/api/auth/api-keys/:id/rotate/',
    {
      onRequest: app.authenticate,
      // No body means the defaults: the old secret stops at once.
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {};
      },
      schema: {
        tags,
        summary:
          'Give an API key a new secret, shown this once; the old one stops at once or after grace_seconds',
        security,
        params: IdParams,
        body: RotateApiKeyBody,
        response: { 200: ApiKeyWithSecret },
      },
    },
    async (request) =>
      app.apiKeys.rotate(requestContext(request), request.params.id, request.body.grace_seconds ?? 0),
  );

  app.post(
    '/api/auth/api-keys/:id/revoke/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Revoke an API key for good, on every API process at once (idempotent)',
        security,
        params: IdParams,
        response: { 200: ApiKey },
      },
    },
    async (request) => app.apiKeys.revoke(requestContext(request), request.params.id),
  );

  app.get(
    '/api/auth/api-keys/:id/usage/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: "An API key's calls per minute over the last hours",
        security,
        params: IdParams,
        querystring: UsageQuery,
        response: { 200: ApiKeyUsage },
      },
    },
    async (request) => app.apiKeys.usage(request.actor, request.params.id, request.query.hours ?? 24),
  );
};
