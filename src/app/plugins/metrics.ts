import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { ForbiddenError, UnauthenticatedError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
  }
}

/**
 * Prometheus metrics at /metrics (for the bearer of METRICS_TOKEN): process defaults plus request
 * duration by route and status.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    app.decorate('metrics', registry);
    app.addHook('onResponse', async (request, reply) => {
      duration.observe(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
          status_code: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
    });
    // Metrics tell business volumes and internals: only a scraper holding METRICS_TOKEN reads them.
    const expected = app.config.metricsToken ? Buffer.from(`Bearer ${app.config.metricsToken}`) : undefined;
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      if (!expected) {
        throw new ForbiddenError(
          '/metrics is off: set METRICS_TOKEN and scrape with that bearer token.',
          'METRICS_DISABLED',
        );
      }
      const given = Buffer.from(request.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new UnauthenticatedError('/metrics needs the bearer token set in METRICS_TOKEN.');
      }
      reply.type(registry.contentType);
      return registry.metrics();
    });
  },
  { name: 'metrics' },
);
