import { type Command, InvalidArgumentError } from 'commander';
import type { AppConfig } from '../../app/config.ts';
import { openDatabase } from '../../db/connect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { bootstrapInventory, MAX_RANGE_NIGHTS } from './inventory.service.ts';

function parseDays(value: string): number {
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1 || days > MAX_RANGE_NIGHTS) {
    throw new InvalidArgumentError(`expected a whole number of days from 1 to ${MAX_RANGE_NIGHTS}`);
  }
  return days;
}

/** `pms bootstrap-inventory [--days 365]`: loads every room type's calendar from today on. */
export function registerInventoryCommands(program: Command, config: () => AppConfig): void {
  program
    .command('bootstrap-inventory')
    .description(
      "Create the missing calendar nights of every room type, from each hotel's today on (idempotent)",
    )
    .option('--days <days>', 'how many nights to load', parseDays, 365)
    .action(async (options: { days: number }) => {
      const database = await openDatabase(config(), { log: () => {} });
      try {
        await migrateToLatest(database.db);
        const started = Date.now();
        const result = await bootstrapInventory(database.db, { days: options.days, log: console.log });
        console.log(
          `Done: ${result.created} night(s) created for ${result.roomTypes} room type(s) of ` +
            `${result.properties} propert${result.properties === 1 ? 'y' : 'ies'} in ${Date.now() - started} ms.`,
        );
      } finally {
        await database.close();
      }
    });
}
