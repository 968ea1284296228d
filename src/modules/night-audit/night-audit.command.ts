import { type Command, InvalidArgumentError } from 'commander';
import type { AppConfig } from '../../app/config.ts';
import { openDatabase } from '../../db/connect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { runNightAudit } from './night-audit.service.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parseProperty(value: string): string {
  if (!UUID.test(value)) throw new InvalidArgumentError('expected a property id (UUID)');
  return value;
}

/** `pms night-audit [--property ID]`: the scheduled night audit, now, with a line per property. */
export function registerNightAuditCommand(program: Command, config: () => AppConfig): void {
  program
    .command('night-audit')
    .description(
      "Roll each hotel's business date when its local day has passed, mark that day's no-shows and load " +
        'the calendar horizon (idempotent; the worker role does this every five minutes)',
    )
    .option('--property <id>', 'audit this property only', parseProperty)
    .action(async (options: { property?: string }) => {
      const settings = config();
      const database = await openDatabase(settings, { log: () => {} });
      try {
        await migrateToLatest(database.db);
        const started = Date.now();
        const { audited, failed } = await runNightAudit(
          database.db,
          { policy: settings.lockPolicy, timeoutMs: settings.lockTimeoutMs },
          {
            horizonDays: settings.inventoryHorizonDays,
            checkHorizon: true,
            propertyId: options.property,
            log: console.log,
          },
        );
        const noShows = audited.reduce((sum, result) => sum + result.no_shows.length, 0);
        const rolled = audited.filter((result) => result.rolled).length;
        console.log(
          `Done: ${audited.length} propert${audited.length === 1 ? 'y' : 'ies'} audited, ${rolled} rolled, ` +
            `${noShows} no-show(s), ${failed.length} failed, in ${Date.now() - started} ms.`,
        );
        if (options.property && audited.length === 0 && failed.length === 0) {
          console.error(`No property ${options.property}.`);
          process.exitCode = 1;
        }
        if (failed.length > 0) process.exitCode = 1;
      } finally {
        await database.close();
      }
    });
}
