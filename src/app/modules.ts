import type { FastifyInstance } from 'fastify';
import { authRoutes } from '../modules/auth/auth.routes.ts';
import { opsRoutes } from '../modules/ops/ops.routes.ts';

/**
 * Each domain module exports one plugin that wires its own routes and services;
 * this list is the only place that knows them all.
 */
export async function moduleRoutes(app: FastifyInstance): Promise<void> {
  await app.register(opsRoutes);
  await app.register(authRoutes);
}
