import cookie from '@fastify/cookie';
import { normalizeIP } from '@fastify/rate-limit';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { RateLimitedError, UnauthenticatedError, ValidationError } from '../../app/errors.ts';
import { requestContext } from '../../app/request-context.ts';
import { IdParams, Page } from '../../app/schemas.ts';
import {
  CreateUserBody,
  ListUsersQuery,
  LoginBody,
  RefreshBody,
  RefreshTransportHeaders,
  TokenPair,
  UpdateUserBody,
  User,
} from './auth.schemas.ts';
import type { TokenPair as IssuedPair } from './auth.service.ts';

const tags = ['auth'];
const secured = [{ bearerAuth: [] }];

/** The refresh token of a browser that asked for it as a cookie (`X-Refresh-Token: cookie`). */
export const REFRESH_COOKIE = 'pms_refresh';
/** Sent to the token endpoints only (sign-in, refresh, revoke), never to the rest of the API. */
export const REFRESH_COOKIE_PATH = '/api/auth/token/';

/**
 * Whether the client asked for its refresh token as a cookie. A custom header is also what keeps a
 * cross-site form or image from using the cookie: it cannot send one, and a cross-site fetch that
 * does needs a CORS preflight this API never grants.
 */
function wantsCookie(request: FastifyRequest): boolean {
  return request.headers['x-refresh-token'] === 'cookie';
}

/** What the body schema said before `refresh` became optional for cookie clients. */
const missingRefresh = () =>
  new ValidationError("Invalid request: /body must have required property 'refresh'", [
    { pointer: '/body/refresh', message: "must have required property 'refresh'" },
  ]);

/** Secure when the page came over HTTPS, also behind a proxy that ends TLS (the browser's Origin says so). */
function overHttps(request: FastifyRequest): boolean {
  return request.protocol === 'https' || String(request.headers.origin ?? '').startsWith('https://');
}

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Registered in this plugin's scope only: no other route parses or writes cookies.
  await app.register(cookie);

  const cookieOptions = (request: FastifyRequest) => ({
    httpOnly: true,
    secure: overHttps(request),
    sameSite: 'strict' as const,
    path: REFRESH_COOKIE_PATH,
  });

  /** The pair in the body, or, for a cookie client, the access token in the body and the refresh one in the cookie. */
  const answerPair = (request: FastifyRequest, reply: FastifyReply, pair: IssuedPair) => {
    if (!wantsCookie(request)) return pair;
    reply.setCookie(REFRESH_COOKIE, pair.refresh, {
      ...cookieOptions(request),
      maxAge: app.config.refreshTokenTtlSeconds,
    });
    return { access: pair.access };
  };

  /** The refresh token a request presents: in its body, else (cookie clients only) in the cookie. */
  const presentedRefresh = (request: FastifyRequest, body: { refresh?: string }) =>
    body.refresh ?? (wantsCookie(request) ? request.cookies[REFRESH_COOKIE] : undefined);

  // Across accounts, so one address cannot spray a password over many of them (per process).
  const perAddress = app.createRateLimit({
    max: app.config.loginRateLimitPerAddressPerMinute,
    timeWindow: 60_000,
  });
  const limitPerAddress = async (request: FastifyRequest, reply: FastifyReply) => {
    const limit = await perAddress(request);
    if (limit.isAllowed || !limit.isExceeded) return;
    reply.header('retry-after', limit.ttlInSeconds);
    throw new RateLimitedError(`${limit.ttlInSeconds} seconds`);
  };

  app.post(
    '/api/auth/token/',
    {
      onRequest: limitPerAddress,
      schema: {
        tags,
        summary: 'Obtain an access and a refresh token',
        security: [],
        headers: RefreshTransportHeaders,
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
            `${normalizeIP(request.ip)}|${String((request.body as { email?: unknown })?.email ?? '').toLowerCase()}`,
        },
      },
    },
    async (request, reply) =>
      answerPair(request, reply, await app.auth.login(request.body.email, request.body.password)),
  );

  app.post(
    '/api/auth/token/refresh/',
    {
      schema: {
        tags,
        summary: 'Rotate a refresh token',
        description:
          'The refresh token comes in the body, or, with `X-Refresh-Token: cookie`, in the cookie set by sign-in.',
        security: [],
        headers: RefreshTransportHeaders,
        body: RefreshBody,
        response: { 200: TokenPair },
      },
    },
    async (request, reply) => {
      const refresh = presentedRefresh(request, request.body);
      if (refresh === undefined) {
        if (wantsCookie(request))
          throw new UnauthenticatedError('No refresh cookie was sent; sign in again.');
        throw missingRefresh();
      }
      try {
        return answerPair(request, reply, await app.auth.refresh(refresh));
      } catch (error) {
        // A cookie that will never work again is dropped, so the browser stops sending it.
        if (wantsCookie(request) && error instanceof UnauthenticatedError) {
          reply.clearCookie(REFRESH_COOKIE, cookieOptions(request));
        }
        throw error;
      }
    },
  );

  app.post(
    '/api/auth/token/revoke/',
    {
      schema: {
        tags,
        summary: 'Sign out: revoke a refresh token and its whole sign-in',
        description:
          'Revokes the sign-in the refresh token belongs to (every token rotated from it, and their access tokens). ' +
          'With `X-Refresh-Token: cookie` the token comes from the cookie, which is cleared; no cookie is 204.',
        security: [],
        headers: RefreshTransportHeaders,
        body: RefreshBody,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const refresh = presentedRefresh(request, request.body);
      if (wantsCookie(request)) reply.clearCookie(REFRESH_COOKIE, cookieOptions(request));
      if (refresh === undefined && !wantsCookie(request)) {
        throw missingRefresh();
      }
      if (refresh !== undefined) await app.auth.logout(refresh);
      return reply.status(204).send(null);
    },
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
