import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from '../../app/plugins/error-handler.ts';
import { ADMIN_CSP } from '../../app/plugins/security-headers.ts';
import { adminIsBuilt, ensureAdminBuild, WEB_DIST } from './web.build.ts';

const HASHED_ASSET = /\/assets\//;

/** Paths that name a file (an extension in the last segment) 404 when missing; others are SPA routes. */
function looksLikeFile(url: string): boolean {
  const last = url.split('?')[0]!.split('/').pop() ?? '';
  return last.includes('.');
}

function notBuilt(request: FastifyRequest, reply: FastifyReply) {
  return sendProblem(request, reply, {
    status: 503,
    code: 'SERVICE_UNAVAILABLE',
    detail: 'The admin web app is not built: run `npm run build:web`.',
  });
}

/**
 * Serves the admin single-page app at /admin/ (built from src/web by Vite; built here at start
 * when the build is missing) with a fallback to index.html for its client-side routes.
 */
export async function webRoutes(app: FastifyInstance): Promise<void> {
  if (!adminIsBuilt()) {
    try {
      await ensureAdminBuild({ log: (message) => app.log.info(message) });
    } catch (error) {
      app.log.warn({ err: error }, 'the admin web app could not be built; /admin/ answers 503');
    }
  }

  app.get('/', { schema: { hide: true } }, (_request, reply) => reply.redirect('/admin/'));

  await app.register(
    async (admin) => {
      // Replaces the JSON API's policy for everything under /admin/ (this hook runs after the app's).
      admin.addHook('onRequest', (_request, reply, done) => {
        reply.header('content-security-policy', ADMIN_CSP);
        done();
      });
      await admin.register(fastifyStatic, {
        root: WEB_DIST,
        prefix: '/',
        wildcard: true,
        index: 'index.html',
        schemaHide: true,
        // Vite names assets by content hash, so they never change; index.html must always be fresh.
        cacheControl: false,
        setHeaders: (reply, filePath) => {
          reply.header(
            'cache-control',
            HASHED_ASSET.test(filePath) ? 'public, max-age=31536000, immutable' : 'no-cache',
          );
        },
      });
      admin.setNotFoundHandler((request, reply) => {
        if ((request.method !== 'GET' && request.method !== 'HEAD') || looksLikeFile(request.url)) {
          return sendProblem(request, reply, {
            status: 404,
            code: 'NOT_FOUND',
            detail: `No route for ${request.method} ${request.url.split('?')[0]}.`,
          });
        }
        if (request.url.split('?')[0] === '/admin') return reply.redirect('/admin/');
        if (!adminIsBuilt()) return notBuilt(request, reply);
        return reply.header('cache-control', 'no-cache').sendFile('index.html');
      });
    },
    { prefix: '/admin' },
  );
}
