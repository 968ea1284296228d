import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { FileMigrationProvider, type MigrationResultSet, Migrator } from 'kysely/migration';
import { withoutTimeLimits } from './database.ts';

const migrationFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

export function createMigrator<T>(db: Kysely<T>): Migrator {
  return new Migrator({
    // The migrator only needs the connection, not the table types.
    db: db as ConstructorParameters<typeof Migrator>[0]['db'],
    provider: new FileMigrationProvider({ fs, path, migrationFolder }),
    migrationTableName: 'schema_migration',
    migrationLockTableName: 'schema_migration_lock',
    // Modules add migrations side by side; a later-numbered one may land first.
    allowUnorderedMigrations: true,
  });
}

/**
 * Applies every pending migration in name order; throws with the failing migration's name. Runs
 * without the pool's statement limit: a migration's length grows with the tables it rewrites, and
 * a process waiting for another's migration lock waits as long as that takes.
 */
export async function migrateToLatest<T>(db: Kysely<T>): Promise<string[]> {
  const result: MigrationResultSet = await withoutTimeLimits(db, (connection) =>
    createMigrator(connection).migrateToLatest(),
  );
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const cause = result.error instanceof Error ? result.error.message : String(result.error);
    throw new Error(`Migration ${failed?.migrationName ?? '(unknown)'} failed: ${cause}`);
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** True when every migration shipped with the code has been applied (used by /readyz). */
export async function migrationsCurrent<T>(db: Kysely<T>): Promise<boolean> {
  const migrations = await createMigrator(db).getMigrations();
  return migrations.every((m) => m.executedAt !== undefined);
}
