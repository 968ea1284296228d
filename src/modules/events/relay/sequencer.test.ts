import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../../../test/helpers/context.ts';
import { commitEvent } from '../../../../test/helpers/events.ts';
import { createProperty } from '../../../../test/helpers/factories.ts';
import type { Actor } from '../../auth/auth.context.ts';
import { createEventsService } from '../events.service.ts';
import { appendEvent } from '../outbox.ts';
import { sequencePending } from './sequencer.repository.ts';

const superAdmin: Actor = {
  id: '00000000-0000-0000-0000-000000000001',
  email: 'root@x',
  role: 'SUPER_ADMIN',
  propertyIds: [],
};

describe('sequencer: positions follow visibility, so a cursor never skips a late commit', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext({ poolSize: 20 });
  });
  afterAll(async () => {
    await ctx?.close();
  });

  const positionOf = async (id: string) =>
    (
      await ctx.db
        .selectFrom('outbox_event')
        .select('position')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).position;

  it('gives an event whose transaction commits late a later position than one that committed first', async () => {
    const hotel = await createProperty(ctx.db);
    const events = createEventsService(ctx.db, { retentionDays: 0 });
    let early = '';
    let late = '';
    let firstPage: string[] = [];
    await ctx.db.transaction().execute(async (slow) => {
      late = (await appendEvent(slow, 'pms.reservation.created', hotel.id, { n: 1 })).id;
      early = (await commitEvent(ctx.db, 'pms.reservation.created', hotel.id, { n: 2 })).id;
      await sequencePending(ctx.db, { wait: true, batch: 100 });
      firstPage = (await events.replay(superAdmin, { property_id: hotel.id, limit: 100 })).results.map(
        (e) => e.id,
      );
    });
    const seqs = await ctx.db
      .selectFrom('outbox_event')
      .select(['id', 'seq'])
      .where('id', 'in', [early, late])
      .execute();
    const seqOf = Object.fromEntries(seqs.map((r) => [r.id, Number(r.seq)]));
    expect(seqOf[late]).toBeLessThan(seqOf[early]!);
    expect(firstPage).toEqual([early]);
    expect(await positionOf(late)).toBeNull();

    // A consumer that read up to `early` continues after it and still gets the late commit.
    const next = await events.replay(superAdmin, { after: early, property_id: hotel.id, limit: 100 });
    expect(next.results.map((e) => e.id)).toEqual([late]);
    expect(Number(await positionOf(late))).toBeGreaterThan(Number(await positionOf(early)));
  });

  it('under concurrent writers, rollbacks and sequencers, a replaying consumer gets every committed event exactly once', async () => {
    const hotels = await Promise.all([
      createProperty(ctx.db),
      createProperty(ctx.db),
      createProperty(ctx.db),
    ]);
    const events = createEventsService(ctx.db, { retentionDays: 0 });
    const committed = new Set<string>();
    const rolledBack = new Set<string>();
    let writing = true;

    const writer = async (w: number) => {
      for (let i = 0; i < 60; i++) {
        const hotel = hotels[(w + i) % hotels.length]!;
        const rollback = i % 7 === 3;
        let id = '';
        try {
          await ctx.db.transaction().execute(async (tx) => {
            id = (await appendEvent(tx, 'pms.inventory.updated', hotel.id, { w, i })).id;
            // Random commit delays make transactions commit out of seq order.
            await sql`SELECT pg_sleep(random() * 0.004)`.execute(tx);
            if (rollback) throw new Error('rollback');
          });
          committed.add(id);
        } catch {
          rolledBack.add(id);
        }
      }
    };
    const sequencer = async () => {
      while (writing) await sequencePending(ctx.db, { wait: false, batch: 7 });
    };
    const seen: string[] = [];
    // Start after everything earlier tests committed.
    const start = await events.replay(superAdmin, { limit: 1000 });
    let sequencersDone = false;
    const consumer = async () => {
      let after = start.last_event_id ?? undefined;
      for (;;) {
        // Once writers and sequencers have stopped, number whatever is still pending (waiting for
        // the lock: replay itself only sequences when no one else holds it), then drain.
        const done = sequencersDone;
        if (done) await sequencePending(ctx.db, { wait: true, batch: 1000 });
        const page = await events.replay(superAdmin, { after, limit: 13 });
        seen.push(...page.results.map((e) => e.id));
        after = page.last_event_id ?? undefined;
        if (done && !page.has_more) return;
      }
    };

    const writers = Promise.all([0, 1, 2, 3, 4, 5].map(writer)).finally(() => {
      writing = false;
    });
    const sequencers = Promise.all([writers, sequencer(), sequencer()]).then(() => {
      sequencersDone = true;
    });
    await Promise.all([sequencers, consumer()]);

    expect(committed.size).toBe(6 * 60 - 6 * 9);
    expect(seen).toHaveLength(committed.size);
    expect(new Set(seen)).toEqual(committed);
    for (const id of rolledBack) expect(seen).not.toContain(id);

    // The race was real: some event committed after one with a higher seq.
    const rows = await ctx.db
      .selectFrom('outbox_event')
      .select(['seq', 'position'])
      .where('id', 'in', [...committed])
      .orderBy('position')
      .execute();
    const outOfSeqOrder = rows.filter((row, i) => i > 0 && Number(row.seq) < Number(rows[i - 1]!.seq));
    expect(outOfSeqOrder.length).toBeGreaterThan(0);
  });
});
