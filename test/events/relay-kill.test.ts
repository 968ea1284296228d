import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvent } from '../../src/modules/events/outbox.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import {
  deleteStream,
  isolatedStream,
  NATS_URL,
  reachable,
  readStream,
  streamCount,
  waitFor,
} from '../helpers/events.ts';
import { createProperty } from '../helpers/factories.ts';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.ts';

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
      const worker = await startServerProcess({
        role: 'worker',
        env: {
          DATABASE_URL: ctx.databaseUrl,
          NATS_URL,
          NATS_STREAM: stream,
          NATS_SUBJECT_PREFIX: prefix,
          PMS_RELAY_LEASE_MS: '3000',
          PMS_RELAY_POLL_MS: '200',
          PMS_DATA_DIR: dataDir,
        },
      });
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

      // Bookings of 1–3 events each, from several connections at once, until `until` events exist.
      let written = 0;
      const write = async (until: number) => {
        const writer = async (w: number) => {
          for (let i = 0; written < until; i++) {
            const size = Math.min(1 + ((w + i) % 3), until - written);
            written += size;
            const hotel = hotels[(w * 7 + i) % PROPERTIES]!.id;
            await ctx.db.transaction().execute(async (tx) => {
              for (let k = 0; k < size; k++) {
                await appendEvent(tx, k === 0 ? 'pms.reservation.created' : 'pms.inventory.updated', hotel, {
                  w,
                  i,
                  k,
                });
              }
            });
          }
        };
        await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
      };

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
      expect(written).toBe(TOTAL);

      await startWorker();
      await waitFor(async () => ((await streamCount(nc, stream)) >= TOTAL ? true : undefined), {
        timeoutMs: 90_000,
        what: 'every event in the stream',
      });

      const committed = await ctx.db
        .selectFrom('outbox_event')
        .select(['id', 'property_id'])
        .orderBy('position')
        .execute();
      expect(committed).toHaveLength(TOTAL);
      const messages = await readStream(nc, stream);
      const ids = messages.map((m) => m.msgId!);
      expect(new Set(ids)).toEqual(new Set(committed.map((e) => e.id)));
      for (const message of messages) expect(message.event.id).toBe(message.msgId);

      // Order per property: the first time each event appears follows the committed order.
      for (const hotel of hotels) {
        const expected = committed.filter((e) => e.property_id === hotel.id).map((e) => e.id);
        const firstSeen = [
          ...new Set(messages.filter((m) => m.event.subject === hotel.id).map((m) => m.msgId!)),
        ];
        expect(firstSeen).toEqual(expected);
      }
    });
  },
);
