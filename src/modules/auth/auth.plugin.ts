import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { UnauthenticatedError } from '../../app/errors.ts';
import type { Actor } from './auth.context.ts';
import { type AuthService, createAuthService } from './auth.service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService;
    /** preHandler: requires a valid bearer access token and sets `request.actor`. */
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

/** Auth services and the `authenticate` hook, shared by every module's routes. */
export const authPlugin = fp(
  async (app: FastifyInstance) => {
    const service = createAuthService(app.db, app.tokenSettings);
    app.decorate('auth', service);
    app.decorateRequest('actor', null as unknown as Actor);
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const token = bearerToken(request.headers.authorization);
      if (!token) throw new UnauthenticatedError('Authentication credentials were not provided.');
      request.actor = await service.authenticate(token);
    });
  },
  { name: 'auth', dependencies: ['core'] },
);
