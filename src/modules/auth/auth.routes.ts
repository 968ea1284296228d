import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requestContext } from '../../app/request-context.ts';
import { IdParams, Page } from '../../app/schemas.ts';
import {
  CreateUserBody,
  ListUsersQuery,
  LoginBody,
  RefreshBody,
  TokenPair,
  UpdateUserBody,
  User,
} from './auth.schemas.ts';

const tags = ['auth'];
const secured = [{ bearerAuth: [] }];

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/auth/token/',
    {
      schema: {
        tags,
        summary: 'Obtain an access and a refresh token',
        security: [],
        body: LoginBody,
        response: { 200: TokenPair },
      },
      config: {
        rateLimit: {
          max: app.config.loginRateLimitPerMinute,
          timeWindow: 60_000,
          // The default onRequest hook runs before the body is parsed, which would key by address alone.
          hook: 'preValidation',
          // Per client address and account, so one attacker cannot lock everybody out.
          keyGenerator: (request) =>
            `${request.ip}|${String((request.body as { email?: unknown })?.email ?? '').toLowerCase()}`,
        },
      },
    },
    async (request) => app.auth.login(request.body.email, request.body.password),
  );

  app.post(
    '/api/auth/token/refresh/',
    {
      schema: {
        tags,
        summary: 'Rotate a refresh token',
        security: [],
        body: RefreshBody,
        response: { 200: TokenPair },
      },
    },
    async (request) => app.auth.refresh(request.body.refresh),
  );

  app.get(
    '/api/auth/me/',
    {
      onRequest: app.authenticate,
      schema: { tags, summary: 'The current user', security: secured, response: { 200: User } },
    },
    async (request) => app.auth.me(request.actor),
  );

  app.get(
    '/api/auth/users/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'List users',
        security: secured,
        querystring: ListUsersQuery,
        response: { 200: Page(User) },
      },
    },
    async (request) =>
      app.auth.listUsers(request.actor, { ...request.query, limit: request.query.limit ?? 50 }),
  );

  app.post(
    '/api/auth/users/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Create a user',
        security: secured,
        body: CreateUserBody,
        response: { 201: User },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await app.auth.createUser(requestContext(request), request.body)),
  );

  app.get(
    '/api/auth/users/:id/',
    {
      onRequest: app.authenticate,
      schema: { tags, summary: 'Get a user', security: secured, params: IdParams, response: { 200: User } },
    },
    async (request) => app.auth.getUser(request.actor, request.params.id),
  );

  app.patch(
    '/api/auth/users/:id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Update a user',
        security: secured,
        params: IdParams,
        body: UpdateUserBody,
        response: { 200: User },
      },
    },
    async (request) => app.auth.updateUser(requestContext(request), request.params.id, request.body),
  );

  app.delete(
    '/api/auth/users/:id/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Delete a user',
        security: secured,
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await app.auth.deleteUser(requestContext(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
};
