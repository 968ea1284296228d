import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/app/logger.ts';
import { freePort } from '../../src/db/embedded.ts';
import type { CloudEvent } from '../../src/modules/events/outbox.ts';
import { type Relay, startRelay } from '../../src/modules/events/relay/relay.ts';
import { registerSink } from '../../src/modules/events/relay/sequencer.repository.ts';
import { createNatsSink } from '../../src/modules/events/sinks/nats.sink.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { commitEvent, reachable, readStream, streamCount, waitFor } from '../helpers/events.ts';
import { createProperty } from '../helpers/factories.ts';

const natsServer = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).stdout.trim();
if (!natsServer) console.warn('[nats-down.test] skipped: no nats-server binary to start and stop');

describe.skipIf(!natsServer)('NATS down: delivery waits and loses nothing once it is back', () => {
  let ctx: TestContext;
  let relay: Relay;
  let server: ChildProcess | undefined;
  let port: number;
  const storeDir = mkdtempSync(path.join(tmpdir(), 'pms-nats-'));
  const stream = 'PMS_DOWN_TEST';

  // Our own server on a free port with its own store, so stopping it touches nobody else.
  const startNats = async () => {
    server = spawn(natsServer, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
      stdio: 'ignore',
    });
    await waitFor(async () => ((await reachable(`nats://127.0.0.1:${port}`)) ? true : undefined), {
      what: 'nats-server to listen',
    });
  };
  const stopNats = async () => {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };

  beforeAll(async () => {
    ctx = await createTestContext();
    port = await freePort();
    await startNats();
    await registerSink(ctx.db, 'nats');
    const logger = createLogger({ logLevel: 'silent' });
    relay = await startRelay({
      db: ctx.db,
      databaseUrl: ctx.databaseUrl,
      sinks: [
        createNatsSink({
          url: `nats://127.0.0.1:${port}`,
          stream,
          subjectPrefix: '',
          publishTimeoutMs: 500,
          logger,
          retryBaseMs: 100,
          maxRetryDelayMs: 400,
        }),
      ],
      logger,
      leaseMs: 5000,
      pollMs: 100,
    });
  });
  afterAll(async () => {
    await relay?.stop();
    await stopNats();
    await ctx?.close();
    rmSync(storeDir, { recursive: true, force: true });
  });

  it('holds events while the server is stopped and publishes all of them, in order, when it returns', async () => {
    const url = `nats://127.0.0.1:${port}`;
    const hotels = [(await createProperty(ctx.db)).id, (await createProperty(ctx.db)).id];
    const committed: CloudEvent[] = [];
    for (let i = 0; i < 4; i++)
      committed.push(await commitEvent(ctx.db, 'pms.reservation.created', hotels[i % 2]!, { i }));
    const probe = await connect({ servers: url });
    await waitFor(async () => ((await streamCount(probe, stream)) === 4 ? true : undefined));
    await probe.close();

    await stopNats();
    for (let i = 4; i < 24; i++)
      committed.push(await commitEvent(ctx.db, 'pms.reservation.modified', hotels[i % 2]!, { i }));
    const failing = await waitFor(async () => {
      const lanes = await ctx.db
        .selectFrom('event_lane')
        .select(['attempts', 'last_error'])
        .where('sink', '=', 'nats')
        .execute();
      return lanes.some((lane) => lane.attempts >= 2) ? lanes : undefined;
    });
    expect(failing.some((lane) => lane.last_error)).toBe(true);

    await startNats();
    const nc = await connect({ servers: url });
    try {
      await waitFor(async () => ((await streamCount(nc, stream)) >= committed.length ? true : undefined), {
        timeoutMs: 30_000,
        what: 'the held events',
      });
      const messages = await readStream(nc, stream);
      expect(messages.map((m) => m.msgId).sort()).toEqual(committed.map((e) => e.id).sort());
      for (const hotel of hotels) {
        expect(messages.filter((m) => m.event.subject === hotel).map((m) => m.msgId)).toEqual(
          committed.filter((e) => e.subject === hotel).map((e) => e.id),
        );
      }
    } finally {
      await nc.close();
    }
  });
});
