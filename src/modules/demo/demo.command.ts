import { randomBytes } from 'node:crypto';
import { type Command, InvalidArgumentError } from 'commander';
import type { AppConfig } from '../../app/config.ts';
import { withLoopback } from '../../app/egress.ts';
import { startSimulator } from '../integrations/simulator/server.ts';
import { createDemoClient } from './demo.client.ts';
import { connectHotels } from './demo.pms.ts';
import { seedDemo } from './demo.seed.ts';
import { startTraffic } from './demo.traffic.ts';

function positiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0 || number > 600)
    throw new InvalidArgumentError('expected a number from 0 to 600');
  return number;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('expected a port number');
  return port;
}

/** `pms demo`: a small hotel group with a simulated PMS and live traffic, served with the admin. */
export function registerDemoCommand(program: Command, config: () => AppConfig): void {
  program
    .command('demo')
    .description(
      'Seed a demo hotel group, connect it to a simulated PMS and keep bookings flowing; serves the admin',
    )
    .option('--port <port>', 'port to listen on (overrides PORT)', parsePort)
    .option('--per-minute <n>', 'direct bookings, holds and cancellations per minute', positiveNumber, 20)
    .option('--email <email>', 'demo administrator login', 'demo@pms.local')
    .option(
      '--password <password>',
      'its password (or env PMS_DEMO_PASSWORD; generated when neither is given)',
    )
    .action(async (options: { port?: number; perMinute: number; email: string; password?: string }) => {
      const settings = config();
      if (options.port !== undefined) settings.port = options.port;
      // The simulated PMSs listen on 127.0.0.1; loopback is opted into here, never by default.
      settings.pmsAllowedNetworks = withLoopback(settings.pmsAllowedNetworks);
      // The demo prints what it does; request logs would drown it (LOG_LEVEL still wins).
      if (!process.env.LOG_LEVEL) settings.logLevel = 'warn';
      const password =
        options.password ?? process.env.PMS_DEMO_PASSWORD ?? randomBytes(9).toString('base64url');
      if (password.length < 8) throw new InvalidArgumentError('the password must have at least 8 characters');
      const log = (line: string) => console.log(`[demo] ${line}`);

      const { startServer } = await import('../../app/server.ts');
      const { app, close } = await startServer(settings, 'all');
      if (!app) throw new Error('the demo needs the API role');
      await app.auth.ensureSuperuser(options.email, password);
      const client = createDemoClient(app, { email: options.email, password });

      log('seeding the demo hotel group…');
      const hotels = await seedDemo(client, log);
      const staffEmail = 'staff@pms.local';
      const staff = await client.request('POST', '/api/auth/users/', {
        email: staffEmail,
        password,
        role: 'STAFF',
        full_name: 'Front desk (Berlin)',
        property_ids: [hotels[0]!.id],
      });

      log('starting the PMS simulator…');
      const simulator = await startSimulator({
        host: '127.0.0.1',
        port: 0,
        dialects: [...new Set(hotels.map((h) => h.dialect))],
        bookings: 120,
        badRatio: 0.04,
        seed: 'pms-demo',
      });
      await connectHotels(client, hotels, simulator, log);

      const traffic = startTraffic(client, hotels, { perMinute: options.perMinute, log });
      // The PMS side changes too: the next scheduled sync brings the changes in.
      const pmsChanges = setInterval(() => {
        const hotel = hotels[Math.floor(Math.random() * hotels.length)]!;
        simulator.mutate(hotel.code, 2);
      }, 20_000);

      const host = settings.host === '0.0.0.0' || settings.host === '::' ? 'localhost' : settings.host;
      const url = `http://${host}:${settings.port}`;
      console.log(
        [
          '',
          `  PMS demo running: ${url}/admin/`,
          `  sign in as ${options.email} / ${password} (SUPER_ADMIN)`,
          staff.status === 201
            ? `  or ${staffEmail} / ${password} (STAFF, Berlin only)`
            : `  or ${staffEmail} (STAFF, Berlin only; its password is unchanged)`,
          `  simulated PMS at ${simulator.url}; API docs at ${url}/docs`,
          '  Ctrl+C stops it.',
          '',
        ].join('\n'),
      );

      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        await traffic.stop();
        clearInterval(pmsChanges);
        log(
          `stopping: ${traffic.stats.booked} booked, ${traffic.stats.cancelled} cancelled, ${traffic.stats.held} held, ${traffic.stats.refused} refused`,
        );
        await simulator.close();
        await close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
