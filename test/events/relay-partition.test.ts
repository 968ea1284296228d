import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvent } from '../../src/modules/events/outbox.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import {
  deleteStream,
  eventBurst,
  expectStreamMatchesOutbox,
  isolatedStream,
  NATS_URL,
  reachable,
  startRelayWorker,
  streamCount,
  waitFor,
} from '../helpers/events.ts';
import { createProperty } from '../helpers/factories.ts';
import { type PgProxy, startPgProxy } from '../helpers/pg-proxy.ts';
import type { ServerProcess } from '../helpers/server-process.ts';

const natsUp = await reachable(NATS_URL);
if (!natsUp) console.warn(`[relay-partition.test] skipped: no NATS server at ${NATS_URL}`);

const TOTAL = 2000;
const PROPERTIES = 8;
const WRITERS = 8;

/**
 * A worker running the outbox relay is cut off from PostgreSQL (not from NATS) in the middle of a
 * burst: a TCP proxy in the test stops forwarding its database traffic and passes on no close, so
 * the worker is alive, keeps its NATS connection and waits for answers that never come. Another
 * worker takes its lanes once their leases run out, and delivers everything while the first is still
 * cut off; the first lives through it, and events written once the network is back are delivered
 * too. Nothing is lost, and per property the first delivery of each event follows the committed order.
 */
describe.skipIf(!natsUp)(
  'relay cut off from PostgreSQL in the middle of a burst (real NATS, real processes)',
  () => {
    let ctx: TestContext;
    let nc: NatsConnection;
    let proxy: PgProxy;
    const { stream, prefix } = isolatedStream('partition');
    const dataDir = mkdtempSync(path.join(tmpdir(), 'pms-relay-partition-'));
    const workers: ServerProcess[] = [];

    const startWorker = async (databaseUrl: string) => {
      const worker = await startRelayWorker({
        databaseUrl,
        stream,
        prefix,
        dataDir,
        // Short database limits, so the cut-off worker gives up its statements within the test.
        env: {
          LOCK_TIMEOUT_MS: '2000',
          DATABASE_STATEMENT_TIMEOUT_MS: '3000',
          DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '1000',
        },
      });
      workers.push(worker);
      return worker;
    };

    beforeAll(async () => {
      ctx = await createTestContext({ poolSize: WRITERS + 2 });
      const target = new URL(ctx.databaseUrl);
      proxy = await startPgProxy({ host: target.hostname, port: Number(target.port || 5432) });
      nc = await connect({ servers: NATS_URL });
    });
    afterAll(async () => {
      for (const worker of workers) await worker.kill('SIGKILL');
      await proxy?.close();
      await nc?.close();
      await deleteStream(NATS_URL, stream);
      await ctx?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('delivers every event, none lost, in order per property, while one worker cannot reach the database', async () => {
      const hotels = await Promise.all(Array.from({ length: PROPERTIES }, () => createProperty(ctx.db)));
      const first = await startWorker(proxy.urlFor(ctx.databaseUrl));

      // Bookings of 1–3 events each, from several connections at once.
      const burst = eventBurst(
        ctx.db,
        hotels.map((hotel) => hotel.id),
        WRITERS,
      );
      const write = (until: number) => burst.write(until);

      const firstHalf = write(TOTAL / 2);
      await waitFor(async () => ((await streamCount(nc, stream)) >= 300 ? true : undefined), {
        timeoutMs: 60_000,
        what: 'the first worker to publish',
      });
      proxy.freezeAll();
      const atCut = await streamCount(nc, stream);
      await firstHalf;
      // The other worker starts while the first is cut off, and takes the lanes as their leases run out.
      await startWorker(ctx.databaseUrl);
      await write(TOTAL);
      expect(burst.written()).toBe(TOTAL);
      await waitFor(async () => ((await streamCount(nc, stream)) >= TOTAL ? true : undefined), {
        timeoutMs: 90_000,
        what: 'every event in the stream while the first worker is cut off',
      });
      console.info(`[relay-partition.test] cut off after ${atCut} of ${TOTAL} published`);
      // The network comes back with both workers running: events written then are delivered too,
      // and the cut-off worker lived through it all.
      proxy.thaw();
      await ctx.db
        .transaction()
        .execute((tx) => appendEvent(tx, 'pms.inventory.updated', hotels[0]!.id, { after: 'thaw' }));
      await waitFor(async () => ((await streamCount(nc, stream)) >= TOTAL + 1 ? true : undefined), {
        timeoutMs: 30_000,
        what: 'an event written after the network came back',
      });
      expect(first.child.exitCode, first.output().slice(-4000)).toBeNull();

      await expectStreamMatchesOutbox(
        ctx.db,
        nc,
        stream,
        hotels.map((hotel) => hotel.id),
        TOTAL + 1,
      );
    });
  },
);
