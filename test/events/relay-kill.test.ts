import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import type { ServerProcess } from '../helpers/server-process.ts';

const natsUp = await reachable(NATS_URL);
if (!natsUp) console.warn(`[relay-kill.test] skipped: no NATS server at ${NATS_URL}`);

const TOTAL = 2000;
const PROPERTIES = 8;
const WRITERS = 8;

describe.skipIf(!natsUp)(
  'relay killed with SIGKILL in the middle of a burst (real NATS, real processes)',
  () => {
    let ctx: TestContext;
    let nc: NatsConnection;
    const { stream, prefix } = isolatedStream('kill');
    const dataDir = mkdtempSync(path.join(tmpdir(), 'pms-relay-kill-'));
    const workers: ServerProcess[] = [];

    const startWorker = async () => {
      const worker = await startRelayWorker({ databaseUrl: ctx.databaseUrl, stream, prefix, dataDir });
      workers.push(worker);
      return worker;
    };

    beforeAll(async () => {
      ctx = await createTestContext({ poolSize: WRITERS + 2 });
      nc = await connect({ servers: NATS_URL });
    });
    afterAll(async () => {
      for (const worker of workers) await worker.kill('SIGKILL');
      await nc?.close();
      await deleteStream(NATS_URL, stream);
      await ctx?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('delivers every event at least once, none lost, in order per property, after a restart', async () => {
      const hotels = await Promise.all(Array.from({ length: PROPERTIES }, () => createProperty(ctx.db)));
      const first = await startWorker();

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
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      const atKill = await streamCount(nc, stream);
      const orphaned = await ctx.db
        .selectFrom('event_lane')
        .select('lane_key')
        .where('lease_owner', 'is not', null)
        .execute();
      console.info(
        `[relay-kill.test] killed after ${atKill} of ${TOTAL} published; ${orphaned.length} lanes left leased`,
      );
      await firstHalf;
      await write(TOTAL);
      expect(burst.written()).toBe(TOTAL);

      await startWorker();
      await waitFor(async () => ((await streamCount(nc, stream)) >= TOTAL ? true : undefined), {
        timeoutMs: 90_000,
        what: 'every event in the stream',
      });

      await expectStreamMatchesOutbox(
        ctx.db,
        nc,
        stream,
        hotels.map((hotel) => hotel.id),
        TOTAL,
      );
    });
  },
);
