import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { UnauthenticatedError } from '../../app/errors.ts';
import { listen, type PgListener } from '../events/pg-listener.ts';
import { ACTOR_CHANNEL, AuthCache } from './auth.cache.ts';
import type { Actor } from './auth.context.ts';
import { type AuthService, createAuthService } from './auth.service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService;
    authCache: AuthCache;
    /** onRequest hook (before the body is parsed or validated): requires a valid bearer access token and sets `request.actor`. */
    authenticate: (request: FastifyRequest) => Promise<void>;
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
 * are cached while a LISTEN connection hears of every change to users (AuthCache); without a
 * database URL to listen on, every request reads its user.
 */
export const authPlugin = fp(
  async (app: FastifyInstance) => {
    const cache = new AuthCache({ actorTtlMs: app.config.authCacheTtlMs });
    const service = createAuthService(app.db, app.tokenSettings, cache);
    app.decorate('auth', service);
    app.decorate('authCache', cache);
    app.decorateRequest('actor', null as unknown as Actor);
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const token = bearerToken(request.headers.authorization);
      if (!token) throw new UnauthenticatedError('Authentication credentials were not provided.');
      request.actor = await service.authenticate(token);
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
            onNotification: (_channel, userId) => cache.invalidate(userId),
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
