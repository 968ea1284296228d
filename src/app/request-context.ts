import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../modules/audit/audit.repository.ts';
import type { Actor } from '../modules/auth/auth.context.ts';

/** The actor and request id of an authenticated request, for services that write and audit. */
export function requestContext(request: FastifyRequest): RequestContext & { actor: Actor } {
  return { actor: request.actor, requestId: String(request.id) };
}
