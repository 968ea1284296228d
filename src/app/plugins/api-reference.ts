import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** The pages and files Scalar serves under /docs. */
const REFERENCE_URLS = ['/docs', '/docs/', '/docs/js/scalar.js', '/docs/openapi.json', '/docs/openapi.yaml'];
/** Set by the server that answers, not copied from the inner one. */
const HOP_HEADERS = new Set(['connection', 'content-length', 'date', 'keep-alive', 'transfer-encoding']);

let referenceLoads = 0;
/** How many times a process loaded the Scalar module (for tests: at most once, and not at startup). */
export const apiReferenceLoads = () => referenceLoads;

/**
 * The interactive API reference (Scalar) at /docs, built from the app's OpenAPI document. Scalar's
 * module holds its whole browser bundle as one 4.2-MB string: about 50 MB of RSS in every API
 * process once served (docs/deploy.md), and most processes never serve a page of it. So it is loaded on the first
 * request for /docs, into a small Fastify instance of its own that this app forwards to.
 */
export const apiReferencePlugin = fp(
  async (app: FastifyInstance) => {
    let reference: Promise<FastifyInstance> | undefined;
    const load = async () => {
      referenceLoads++;
      const { default: scalar } = await import('@scalar/fastify-api-reference');
      const inner = Fastify({ logger: false });
      await inner.register(scalar, {
        routePrefix: '/docs',
        configuration: { content: () => app.swagger() },
      });
      await inner.ready();
      return inner;
    };
    app.addHook('onClose', async () => {
      await (await reference?.catch(() => undefined))?.close();
    });
    const forward = async (request: FastifyRequest, reply: FastifyReply) => {
      reference ??= load().catch((error: unknown) => {
        reference = undefined;
        throw error;
      });
      const response = await (await reference).inject({ method: 'GET', url: request.url });
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined && !HOP_HEADERS.has(name)) reply.header(name, value);
      }
      return reply.status(response.statusCode).send(response.rawPayload);
    };
    for (const url of REFERENCE_URLS) {
      app.get(url, { schema: { hide: true }, logLevel: 'warn' }, forward);
    }
  },
  { name: 'api-reference', dependencies: ['@fastify/swagger'] },
);
