import { createInterface } from 'node:readline/promises';
import { Command, InvalidArgumentError } from 'commander';
import { openDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createAuthService } from '../modules/auth/auth.service.ts';
import { loadRelaySettings } from '../modules/events/events.config.ts';
import { registerCommands } from './commands.ts';
import { ConfigError, loadConfig, type Role } from './config.ts';
import { resolveJwtKey } from './secrets.ts';

const ROLES: Role[] = ['api', 'realtime', 'worker', 'all'];

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('expected a port number');
  return port;
}

function parseWorkers(value: string): number {
  const workers = Number(value);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new InvalidArgumentError('expected a number of processes from 1 to 64');
  }
  return workers;
}

/** Problems of a settings loader, or none. */
function problemsOf(load: () => unknown): string[] {
  try {
    load();
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

/**
 * The validated configuration, or exit 2 listing every problem. The relay's settings are checked
 * here too, whatever the role, so a bad value is reported at boot, not when a worker first starts.
 */
function config() {
  let settings: ReturnType<typeof loadConfig> | undefined;
  const problems = [
    ...problemsOf(() => {
      settings = loadConfig();
    }),
    ...problemsOf(() => loadRelaySettings()),
  ];
  if (!settings || problems.length > 0) {
    console.error(new ConfigError(problems).message);
    process.exit(2);
  }
  return settings;
}

async function promptPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new Error(
      'No password given: pass --password or set PMS_SUPERUSER_PASSWORD (stdin is not a terminal).',
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const first = await rl.question('Password: ');
    const second = await rl.question('Password (again): ');
    if (first !== second) throw new Error('The passwords do not match.');
    return first;
  } finally {
    rl.close();
  }
}

const program = new Command('pms').description('Hotel PMS backend').showHelpAfterError();

program
  .command('start')
  .description('Serve the API, docs, admin and realtime feeds (and run the worker with --role all)')
  .option('--role <role>', `one of ${ROLES.join(', ')}`, 'all')
  .option('--port <port>', 'port to listen on (overrides PORT)', parsePort)
  .option('--workers <n>', 'API/realtime processes sharing the port (default 1)', parseWorkers)
  .action(async (options: { role: Role; port?: number; workers?: number }) => {
    if (!ROLES.includes(options.role))
      throw new InvalidArgumentError(`--role must be one of ${ROLES.join(', ')}`);
    const settings = config();
    if (options.port !== undefined) settings.port = options.port;
    if ((options.workers ?? 1) > 1) {
      if (options.role !== 'api' && options.role !== 'realtime') {
        throw new InvalidArgumentError(
          '--workers applies to --role api or realtime; run workers as their own processes',
        );
      }
      const { isClusterWorker, runClusterPrimary } = await import('./cluster.ts');
      if (!isClusterWorker()) {
        await runClusterPrimary(settings, options.workers!);
        console.log(`PMS ${options.role}: ${options.workers} processes on port ${settings.port}`);
        return;
      }
    }
    const { startServer } = await import('./server.ts');
    const { app } = await startServer(settings, options.role);
    if (app) {
      const address = `http://${settings.host === '0.0.0.0' ? 'localhost' : settings.host}:${settings.port}`;
      console.log(
        `PMS ${options.role} ready: API ${address}/api/  docs ${address}/docs  admin ${address}/admin/`,
      );
    }
  });

program
  .command('migrate')
  .description('Apply pending database migrations')
  .action(async () => {
    const database = await openDatabase(config(), { log: console.log });
    try {
      const applied = await migrateToLatest(database.db);
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
    } finally {
      await database.close();
    }
  });

program
  .command('createsuperuser')
  .description('Create a SUPER_ADMIN (or reset its password when the email exists)')
  .requiredOption('--email <email>', 'login email')
  .option('--password <password>', 'password (or env PMS_SUPERUSER_PASSWORD; prompted when neither is given)')
  .action(async (options: { email: string; password?: string }) => {
    const settings = config();
    const password = options.password ?? process.env.PMS_SUPERUSER_PASSWORD ?? (await promptPassword());
    if (password.length < 8) throw new InvalidArgumentError('the password must have at least 8 characters');
    if (!/^[^\s@]+@[^\s@]+$/.test(options.email))
      throw new InvalidArgumentError('--email is not an email address');
    const database = await openDatabase(settings, { log: () => {} });
    try {
      await migrateToLatest(database.db);
      const auth = createAuthService(database.db, {
        key: resolveJwtKey(settings),
        accessTtlSeconds: settings.accessTokenTtlSeconds,
        refreshTtlSeconds: settings.refreshTokenTtlSeconds,
      });
      const result = await auth.ensureSuperuser(options.email, password);
      console.log(
        result.created ? `Superuser ${options.email} created.` : `Superuser ${options.email} updated.`,
      );
    } finally {
      await database.close();
    }
  });

registerCommands(program, config);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(`pms: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
