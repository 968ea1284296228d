import { createSecretKey } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../db/database.ts';
import { authPlugin } from '../modules/auth/auth.plugin.ts';
import type { TokenSettings } from '../modules/auth/auth.tokens.ts';
import type { AppConfig, Role } from './config.ts';
import { RateLimitedError } from './errors.ts';
import { moduleRoutes } from './modules.ts';
import { apiReferencePlugin } from './plugins/api-reference.ts';
import { frameworkErrorProblem, installErrorHandler } from './plugins/error-handler.ts';
import { metricsPlugin } from './plugins/metrics.ts';
import { API_CSP_DIRECTIVES, securityHeadersPlugin } from './plugins/security-headers.ts';
import { installNulGuard, installValidators } from './plugins/validation.ts';
import { Problem } from './schemas.ts';

declare module 'fastify' {
  interface FastifyInstance {
    config: AppConfig;
    db: Db;
    tokenSettings: TokenSettings;
    /** Which role this app serves: `realtime` serves only health checks and WebSockets. */
    role: Role;
    /** The database's connection URL (also for the embedded server), for dedicated LISTEN connections. */
    databaseUrl: string | undefined;
  }
}

export interface AppDeps {
  config: AppConfig;
  db: Db;
  /** Resolved JWT signing key (from JWT_SECRET or the data dir). */
  jwtKey: Uint8Array;
  /** A pino logger; tests leave it out and get silence. */
  logger?: FastifyBaseLogger;
  role?: Role;
  /** Connection URL of `db`; defaults to config.databaseUrl. Realtime fan-out LISTENs on it. */
  databaseUrl?: string;
}

const REQUEST_ID = /^[\w.:-]{1,100}$/;

/** The one app factory, used by the server and by the tests. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    // A client's request id is kept when it is sane, so logs can be joined across systems.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    },
    bodyLimit: 1_048_576,
    connectionTimeout: 60_000,
    requestTimeout: 60_000,
    ajv: { customOptions: { removeAdditional: false } },
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    frameworkErrors: frameworkErrorProblem,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // The API speaks JSON only: any other body is 415, not a string that fails a schema later.
  app.removeContentTypeParser('text/plain');
  installValidators(app);
  installNulGuard(app);
  installErrorHandler(app);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // Every route documents the problem responses it may give.
  app.addSchema(Problem);
  app.addHook('onRoute', (route) => {
    if (!route.schema || (route.schema as { hide?: boolean }).hide) return;
    const response = (route.schema.response ?? {}) as Record<string, unknown>;
    response['4XX'] ??= { $ref: 'Problem#' };
    response['5XX'] ??= { $ref: 'Problem#' };
    route.schema.response = response;
  });

  await app.register(
    fp(
      async (core) => {
        core.decorate('config', deps.config);
        core.decorate('db', deps.db);
        core.decorate('role', deps.role ?? 'all');
        core.decorate('databaseUrl', deps.databaseUrl ?? deps.config.databaseUrl);
        core.decorate('tokenSettings', {
          key: createSecretKey(deps.jwtKey),
          accessTtlSeconds: deps.config.accessTokenTtlSeconds,
          refreshTtlSeconds: deps.config.refreshTokenTtlSeconds,
        });
      },
      { name: 'core' },
    ),
  );
  await app.register(securityHeadersPlugin, {
    // The JSON API's policy; the admin and the API reference pages set their own (security-headers.ts).
    contentSecurityPolicy: { useDefaults: false, directives: API_CSP_DIRECTIVES },
  });
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => new RateLimitedError(context.after),
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'PMS backend API',
        version: '0.1.0',
        description:
          'Hotel Property Management System: properties, inventory, rates, reservations, events and PMS integrations. ' +
          'Errors are RFC 9457 problem documents with a stable `code`.',
      },
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description:
              'An access token, or a partner\'s API key (`pms_key_…`; docs/api.md, "Partner credentials").',
          },
        },
      },
      security: [{ bearerAuth: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(apiReferencePlugin);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(metricsPlugin);
  await app.register(authPlugin);
  await app.register(moduleRoutes);
  return app;
}
