import { type Command, InvalidArgumentError } from 'commander';
import type { AppConfig } from '../../app/config.ts';
import { resolveSecretsKey } from '../../app/secrets.ts';
import { openDatabase } from '../../db/connect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { applyImportedChanges } from '../inventory/inventory.service.ts';
import { loadShippedConfigs } from './config/config.service.ts';
import { SHIPPED_CONFIGS_DIR } from './integrations.plugin.ts';
import { DIALECT_CONFIG, DIALECTS, type DialectName, startSimulator } from './simulator/server.ts';
import { createSyncService } from './sync/sync.service.ts';

const number =
  (min: number, max: number, integer = false) =>
  (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`expected a${integer ? ' whole' : ''} number from ${min} to ${max}`);
    }
    return n;
  };

function dialectList(value: string): DialectName[] {
  if (value === 'all') return DIALECTS;
  const names = value.split(',').map((v) => v.trim());
  for (const name of names) {
    if (!DIALECTS.includes(name as DialectName)) {
      throw new InvalidArgumentError(`unknown dialect "${name}"; known: ${DIALECTS.join(', ')}, all`);
    }
  }
  return names as DialectName[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `pms simulate-pms` and `pms sync`. */
export function registerIntegrationCommands(program: Command, config: () => AppConfig): void {
  program
    .command('simulate-pms')
    .description('Serve simulated PMS APIs (the dialects of the shipped configs) with injectable faults')
    .option('--dialect <names>', `comma-separated: ${DIALECTS.join(', ')}, or all`, dialectList, DIALECTS)
    .option('--port <port>', 'port to listen on', number(0, 65535, true), 8100)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--bookings <n>', 'bookings per hotel', number(0, 10_000_000, true), 1000)
    .option('--bad-ratio <r>', 'share of records broken on purpose', number(0, 1), 0.02)
    .option('--fail-rate <f>', 'share of requests answered 503 or 429', number(0, 1), 0)
    .option('--latency-ms <ms>', 'delay before every answer', number(0, 60_000, true), 0)
    .option('--seed <seed>', 'seed of the generated bookings', 'pms-simulator')
    .option(
      '--change-every <seconds>',
      'change some bookings of every hotel seen so far this often',
      number(0, 86_400),
      0,
    )
    .option(
      '--change-count <n>',
      'how many bookings per hotel each change touches',
      number(1, 100_000, true),
      5,
    )
    .action(
      async (options: {
        dialect: DialectName[];
        port: number;
        host: string;
        bookings: number;
        badRatio: number;
        failRate: number;
        latencyMs: number;
        seed: string;
        changeEvery: number;
        changeCount: number;
      }) => {
        const sim = await startSimulator({
          port: options.port,
          host: options.host,
          dialects: options.dialect,
          bookings: options.bookings,
          badRatio: options.badRatio,
          failRate: options.failRate,
          latencyMs: options.latencyMs,
          seed: options.seed,
        });
        const lines = [`PMS simulator listening on ${sim.url}`, ''];
        const paths: Record<DialectName, string> = {
          acme: '/v2/hotels/{hotel}/bookings',
          acme3: '/v3/hotels/{hotel}/bookings',
          flatline: '/api/reservations?hotel={hotel}',
          quickstay: '/api/v3/properties/{hotel}/reservations',
        };
        for (const dialect of options.dialect) {
          const c = DIALECT_CONFIG[dialect];
          lines.push(
            `  ${dialect.padEnd(9)} config ${c.pms_type} ${c.version}  ${paths[dialect]}  secrets: {"${c.secret}": "${sim.credentials[dialect]}"}`,
          );
        }
        lines.push(
          '',
          'Any hotel id works. Control: POST /_sim/mutate {"hotel","count"}, POST /_sim/faults [{"status":429,"retryAfter":"1"}],',
          'POST /_sim/settings {"fail_rate","latency_ms"}, GET /_sim/stats. Ctrl+C stops it.',
        );
        console.log(lines.join('\n'));
        let timer: NodeJS.Timeout | undefined;
        if (options.changeEvery > 0) {
          // Hotels exist once they asked for their bookings.
          timer = setInterval(() => {
            for (const hotel of sim.hotelIds()) sim.mutate(hotel, options.changeCount);
          }, options.changeEvery * 1000);
        }
        const stop = async () => {
          if (timer) clearInterval(timer);
          await sim.close();
          process.exit(0);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      },
    );

  program
    .command('sync')
    .description("Sync bookings from every connected hotel's PMS now (or one property's), with progress")
    .option('--property <id>', 'only this property (its UUID)')
    .option('--concurrency <n>', 'hotels synced at once', number(1, 64, true), 4)
    .action(async (options: { property?: string; concurrency: number }) => {
      if (options.property !== undefined && !UUID.test(options.property)) {
        throw new InvalidArgumentError('--property must be a property UUID');
      }
      const settings = config();
      const database = await openDatabase(settings, { log: () => {} });
      try {
        await migrateToLatest(database.db);
        await loadShippedConfigs(database.db, SHIPPED_CONFIGS_DIR);
        const connections = await database.db
          .selectFrom('pms_connection')
          .select('property_id')
          .$if(options.property !== undefined, (q) => q.where('property_id', '=', options.property!))
          .$if(options.property === undefined, (q) => q.where('enabled', '=', true))
          .execute();
        if (connections.length === 0) {
          console.log(
            options.property
              ? `Property ${options.property} has no PMS connection.`
              : 'No PMS connection is enabled.',
          );
          process.exitCode = 1;
          return;
        }
        const sync = createSyncService({
          db: database.db,
          secretsKey: resolveSecretsKey(settings),
          applyImportedChanges,
          concurrency: options.concurrency,
          allowedNetworks: settings.pmsAllowedNetworks,
          abandonedAfterSeconds: settings.syncAbandonedSeconds,
        });
        const propertyOf = new Map<string, string>();
        console.log(`Syncing ${connections.length} hotel(s), ${options.concurrency} at a time…`);
        const started = Date.now();
        const results = await sync.syncProperties(
          connections.map((c) => c.property_id),
          (progress) => {
            const property = propertyOf.get(progress.run) ?? progress.run;
            console.log(
              `  ${property}: ${progress.pages} page(s), ${progress.fetched} fetched, ${progress.created} created, ` +
                `${progress.updated} updated, ${progress.unchanged} unchanged, ${progress.quarantined} quarantined`,
            );
          },
          (runId, propertyId) => propertyOf.set(runId, propertyId),
        );
        let failed = 0;
        for (const run of results) {
          if (run.status === 'failed') failed += 1;
          const counts =
            'fetched' in run
              ? ` ${run.fetched} fetched, ${run.created} created, ${run.updated} updated, ${run.quarantined} quarantined`
              : '';
          console.log(
            `${run.status.padEnd(9)} ${run.property_id ?? run.id}${counts}${run.error ? ` — ${run.error}` : ''}`,
          );
        }
        console.log(`Done in ${Date.now() - started} ms: ${results.length - failed} ok, ${failed} failed.`);
        if (failed > 0) process.exitCode = 1;
      } finally {
        await database.close();
      }
    });
}
