import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { resolveSecretsKey } from '../../app/secrets.ts';
import { applyImportedChanges } from '../inventory/inventory.service.ts';
import { createBookingsService } from './bookings/bookings.service.ts';
import { type ConfigService, createConfigService, loadShippedConfigs } from './config/config.service.ts';
import { type ConnectionService, createConnectionService } from './connections/connection.service.ts';
import { integrationRoutes } from './integrations.routes.ts';
import { createSyncService, type SyncService } from './sync/sync.service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    integrations: {
      configs: ConfigService;
      connections: ConnectionService;
      sync: SyncService;
      bookings: ReturnType<typeof createBookingsService>;
    };
  }
}

/** Where the shipped configs live: pms-configs/ at the repository root. */
export const SHIPPED_CONFIGS_DIR = fileURLToPath(new URL('../../../pms-configs/', import.meta.url));

/**
 * The PMS integration module: its services, its routes, the shipped configs loaded when the app
 * is ready, and runs started in the background drained on close.
 */
export const integrationsPlugin = fp(
  async (app: FastifyInstance) => {
    const secretsKey = resolveSecretsKey(app.config);
    const allowedNetworks = app.config.pmsAllowedNetworks;
    const sync = createSyncService({
      db: app.db,
      secretsKey,
      applyImportedChanges,
      logger: app.log,
      allowedNetworks,
      abandonedAfterSeconds: app.config.syncAbandonedSeconds,
    });
    app.decorate('integrations', {
      configs: createConfigService(app.db),
      connections: createConnectionService(app.db, secretsKey, allowedNetworks),
      sync,
      bookings: createBookingsService(app.db),
    });
    app.addHook('onReady', async () => {
      // An unreachable or not yet migrated database must not stop the API from starting: /readyz
      // reports it, and the configs load on the next start.
      let loaded: Awaited<ReturnType<typeof loadShippedConfigs>>;
      try {
        loaded = await loadShippedConfigs(app.db, SHIPPED_CONFIGS_DIR);
      } catch (error) {
        app.log.warn({ err: error }, 'shipped PMS configs were not loaded: the database is not ready');
        return;
      }
      for (const entry of loaded) {
        if (entry.outcome === 'invalid')
          app.log.error(entry, 'a shipped PMS config is invalid and was not loaded');
        else if (entry.outcome !== 'unchanged') app.log.info(entry, 'shipped PMS config loaded');
      }
    });
    app.addHook('onClose', async () => {
      await sync.drain();
    });
    await app.register(integrationRoutes);
  },
  { name: 'integrations', dependencies: ['core', 'auth'] },
);
