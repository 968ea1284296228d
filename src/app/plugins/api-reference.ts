import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { apiReferenceCsp } from './security-headers.ts';

/** The pages and files Scalar serves under /docs. */
const REFERENCE_URLS = ['/docs', '/docs/', '/docs/js/scalar.js', '/docs/openapi.json', '/docs/openapi.yaml'];
/** Set by the server that answers, not copied from the inner one. */
const HOP_HEADERS = new Set(['connection', 'content-length', 'date', 'keep-alive', 'transfer-encoding']);

/**
 * Zod (inside Scalar) probes whether it may compile validators with Function(); under a CSP without
 * 'unsafe-eval' that probe is a reported violation. Its documented switch skips the probe.
 */
const ZOD_JITLESS = '<script>globalThis.__zod_globalConfig = { jitless: true };</script>';
const SCALAR_SCRIPT = '<script src="js/scalar.js"></script>';

/** Scalar's page, run without eval, under a policy that names each of its inline scripts. */
function withPolicy(reply: FastifyReply, html: string): string {
  const page = html.replace(SCALAR_SCRIPT, `${ZOD_JITLESS}\n    ${SCALAR_SCRIPT}`);
  reply.header('content-security-policy', apiReferenceCsp(page));
  return page;
}

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
        // Its web fonts come from Scalar's CDN; the page loads nothing from another origin (its CSP).
        configuration: { content: () => app.swagger(), withDefaultFonts: false },
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
      reply.status(response.statusCode);
      if (String(response.headers['content-type']).startsWith('text/html')) {
        return reply.send(withPolicy(reply, response.payload));
      }
      return reply.send(response.rawPayload);
    };
    for (const url of REFERENCE_URLS) {
      app.get(url, { schema: { hide: true }, logLevel: 'warn' }, forward);
    }
  },
  { name: 'api-reference', dependencies: ['@fastify/swagger'] },
);
