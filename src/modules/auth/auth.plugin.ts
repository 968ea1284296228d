import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { RateLimitedError, UnauthenticatedError } from '../../app/errors.ts';
import { everyInterval } from '../../app/every-interval.ts';
import { listen, type PgListener } from '../events/pg-listener.ts';
import { InsufficientScopeError } from './api-key.errors.ts';
import { scopeOfRoute } from './api-key.scopes.ts';
import { looksLikeApiKey } from './api-key.secret.ts';
import { type ApiKeyService, createApiKeyService } from './api-key.service.ts';
import { ApiKeyUsage, USAGE_FLUSH_MS } from './api-key.usage.ts';
import { ACTOR_CHANNEL, AuthCache } from './auth.cache.ts';
import type { Actor } from './auth.context.ts';
import { type AuthService, createAuthService } from './auth.service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService;
    apiKeys: ApiKeyService;
    apiKeyUsage: ApiKeyUsage;
    authCache: AuthCache;
    /**
     * onRequest hook (before the body is parsed or validated): requires a valid bearer access token
     * or API key and sets `request.actor`. A key is also held to its rate limit and its scopes.
     */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
  interface FastifyRequest {
    actor: Actor;
  }
}

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

/**
 * Auth services and the `authenticate` hook, shared by every module's routes. Authenticated users
 * and API keys are cached while a LISTEN connection hears of every change to them (AuthCache);
 * without a database URL to listen on, every request reads its user or key.
 */
export const authPlugin = fp(
  async (app: FastifyInstance) => {
    const cache = new AuthCache({ actorTtlMs: app.config.authCacheTtlMs });
    const service = createAuthService(app.db, app.tokenSettings, cache);
    const apiKeys = createApiKeyService(app.db, cache);
    const usage = new ApiKeyUsage(app.db);
    app.decorate('auth', service);
    app.decorate('apiKeys', apiKeys);
    app.decorate('apiKeyUsage', usage);
    app.decorate('authCache', cache);
    app.decorateRequest('actor', null as unknown as Actor);

    // Per key and process, like the other limits (docs/api.md); the key's limit is read per request.
    const keyLimit = app.createRateLimit({
      timeWindow: 60_000,
      max: (request) => request.actor.apiKey?.rateLimitPerMinute ?? 1,
      keyGenerator: (request) => `api-key:${request.actor.id}`,
    });

    async function authenticateApiKey(request: FastifyRequest, reply: FastifyReply, key: string) {
      request.actor = await apiKeys.authenticate(key);
      const limit = await keyLimit(request);
      if (!limit.isAllowed) {
        reply.header('x-ratelimit-limit', limit.max);
        reply.header('x-ratelimit-remaining', limit.remaining);
        reply.header('x-ratelimit-reset', limit.ttlInSeconds);
        if (limit.isExceeded) {
          reply.header('retry-after', limit.ttlInSeconds);
          throw new RateLimitedError(`${limit.ttlInSeconds} seconds`);
        }
      }
      const needed = scopeOfRoute(request.method, request.routeOptions.url);
      if (!needed || !request.actor.apiKey!.scopes.includes(needed)) {
        throw new InsufficientScopeError(needed ?? null);
      }
    }

    app.decorate('authenticate', async (request: FastifyRequest, reply: FastifyReply) => {
      const token = bearerToken(request.headers.authorization);
      if (!token) throw new UnauthenticatedError('Authentication credentials were not provided.');
      if (looksLikeApiKey(token)) return authenticateApiKey(request, reply, token);
      request.actor = await service.authenticate(token);
    });

    // The API reference says which scope each operation needs of a key (HEAD shares its GET's schema).
    app.addHook('onRoute', (route) => {
      const method = String(route.method);
      const scope = method === 'HEAD' ? undefined : scopeOfRoute(method, route.url);
      if (!scope || !route.schema) return;
      const schema = route.schema as { description?: string };
      const note = `API keys: needs the scope \`${scope}\`.`;
      schema.description = schema.description ? `${schema.description}\n\n${note}` : note;
    });

    // Every call a key makes is counted, refused ones included (docs/api.md, "Partner credentials").
    app.addHook('onResponse', async (request, reply) => {
      const key = request.actor?.apiKey;
      if (key) usage.record(key.id, reply.statusCode);
    });
    let stopFlushing: (() => Promise<void>) | undefined;
    app.addHook('onReady', async () => {
      stopFlushing = everyInterval('api-key-usage', USAGE_FLUSH_MS, app.log, () => usage.flush());
    });
    app.addHook('onClose', async () => {
      await stopFlushing?.();
      await usage.flush().catch((error: unknown) => {
        app.log.warn({ err: error, dropped: usage.droppedCalls }, 'API key usage not written at close');
      });
    });

    let listener: PgListener | undefined;
    const databaseUrl = app.databaseUrl;
    if (app.config.authCacheTtlMs > 0 && databaseUrl) {
      app.addHook('onReady', async () => {
        try {
          listener = await listen({
            connectionString: databaseUrl,
            channels: [ACTOR_CHANNEL],
            applicationName: 'pms-auth-cache',
            onNotification: (_channel, id) => cache.invalidate(id),
            onLost: () => cache.setLive(false),
            onReconnect: () => cache.setLive(true),
            onError: (error) => app.log.warn({ err: error }, 'auth cache listener connection problem'),
          });
          cache.setLive(true);
        } catch (error) {
          app.log.warn({ err: error }, 'auth cache disabled: cannot LISTEN for user changes');
        }
      });
      app.addHook('onClose', async () => {
        cache.setLive(false);
        await listener?.close();
      });
    }
  },
  { name: 'auth', dependencies: ['core'] },
);
