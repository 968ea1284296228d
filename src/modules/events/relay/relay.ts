import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../../db/database.ts';
import { LANES_CHANNEL, listen, OUTBOX_CHANNEL, type PgListener } from '../pg-listener.ts';
import type { EventSink } from '../sinks/sink.ts';
import {
  type ClaimedLane,
  claimLanes,
  completeLane,
  deactivateLane,
  type LaneOutcome,
  laneEvents,
  recoverExpiredLeases,
} from './lane.repository.ts';
import { sequencePending } from './sequencer.repository.ts';

export interface RelayOptions {
  db: Db;
  databaseUrl: string;
  sinks: EventSink[];
  logger: FastifyBaseLogger;
  leaseMs: number;
  pollMs: number;
  sequenceBatch?: number;
}

export interface Relay {
  readonly owner: string;
  /** Sequence and deliver now rather than at the next notification or poll. */
  wake(): void;
  stop(): Promise<void>;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}

/**
 * The outbox relay: sequences committed events, then delivers each sink's lanes in order, woken
 * by NOTIFY with polling as a fallback. Any number of relays may run against one database.
 */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  const { db, logger, leaseMs } = options;
  const batch = options.sequenceBatch ?? 5000;
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const log = logger.child({ component: 'relay', owner });
  let stopping = false;

  let sequencing = false;
  let sequenceAgain = false;
  const sequence = async (): Promise<void> => {
    if (stopping) return;
    if (sequencing) {
      sequenceAgain = true;
      return;
    }
    sequencing = true;
    try {
      do {
        sequenceAgain = false;
        const result = await sequencePending(db, { wait: false, batch });
        if (result.sequenced === batch) sequenceAgain = true;
        if (result.sequenced > 0) pumpAll();
      } while (sequenceAgain && !stopping);
    } catch (error) {
      log.error({ err: error }, 'sequencing outbox events failed; retrying at the next poll');
    } finally {
      sequencing = false;
    }
  };

  const running = new Map(options.sinks.map((sink) => [sink.name, new Set<Promise<void>>()]));
  const pumping = new Set<string>();
  const pumpAgain = new Set<string>();

  const deliverLane = async (sink: EventSink, lane: ClaimedLane): Promise<void> => {
    const started = Date.now();
    let delivered = lane.deliveredPosition;
    let failure: string | undefined;
    try {
      const target = await sink.open(lane);
      if (!target) {
        await deactivateLane(db, lane, owner);
        return;
      }
      const events = await laneEvents(db, lane, { limit: sink.batchSize, types: target.types });
      let reachedHead = events.length < sink.batchSize;
      for (const [index, event] of events.entries()) {
        // Leave time to record progress before the lease could be taken over.
        if (stopping || Date.now() - started > leaseMs / 2) {
          reachedHead = false;
          break;
        }
        await target.send(event, index === 0 ? lane.attempts + 1 : 1);
        delivered = event.position;
      }
      // Positions up to the head that were not fetched belong to filtered-out types.
      if (reachedHead) delivered = lane.headPosition;
    } catch (error) {
      failure = describe(error);
    }

    const progressed = delivered > lane.deliveredPosition;
    const attempts = progressed ? 1 : lane.attempts + 1;
    const outcome: LaneOutcome =
      failure === undefined
        ? { ok: true, deliveredPosition: delivered }
        : { ok: false, deliveredPosition: delivered, error: failure, retryInMs: sink.retryDelayMs(attempts) };
    try {
      const kept = await completeLane(db, lane, owner, outcome);
      if (!kept) log.warn({ sink: sink.name, lane: lane.laneKey }, 'lane lease was lost before completing');
    } catch (error) {
      // The lease expires and the sweeper frees the lane; its events go out again (at least once).
      log.error({ err: error, sink: sink.name, lane: lane.laneKey }, 'recording lane progress failed');
      return;
    }
    if (failure !== undefined) {
      log.warn(
        {
          sink: sink.name,
          lane: lane.laneKey,
          attempts,
          retryInMs: outcome.ok ? 0 : outcome.retryInMs,
          failure,
        },
        'delivery failed; will retry',
      );
      const failingSince = progressed ? new Date() : (lane.failingSince ?? new Date());
      await sink
        .afterFailure?.({ ...lane, deliveredPosition: delivered, attempts, failingSince }, failure)
        .catch((error) => log.error({ err: error, sink: sink.name }, 'sink failure hook failed'));
    }
  };

  const pump = async (sink: EventSink): Promise<void> => {
    if (stopping) return;
    if (pumping.has(sink.name)) {
      pumpAgain.add(sink.name);
      return;
    }
    pumping.add(sink.name);
    const inFlight = running.get(sink.name)!;
    try {
      do {
        pumpAgain.delete(sink.name);
        const free = sink.concurrency - inFlight.size;
        if (free <= 0 || stopping) break;
        const lanes = await claimLanes(db, { sink: sink.name, owner, leaseMs, limit: free });
        for (const lane of lanes) {
          const delivery: Promise<void> = deliverLane(sink, lane).finally(() => {
            inFlight.delete(delivery);
            void pump(sink);
          });
          inFlight.add(delivery);
        }
      } while (pumpAgain.has(sink.name));
    } catch (error) {
      log.error({ err: error, sink: sink.name }, 'claiming lanes failed; retrying at the next poll');
    } finally {
      pumping.delete(sink.name);
    }
  };

  const pumpAll = () => {
    for (const sink of options.sinks) void pump(sink);
  };

  const sweep = async () => {
    try {
      const recovered = await recoverExpiredLeases(db);
      if (recovered.length > 0) {
        log.warn({ lanes: recovered }, 'recovered lanes whose worker stopped renewing its lease');
        pumpAll();
      }
    } catch (error) {
      log.error({ err: error }, 'recovering expired leases failed');
    }
  };

  const listener: PgListener = await listen({
    connectionString: options.databaseUrl,
    channels: [OUTBOX_CHANNEL, LANES_CHANNEL],
    applicationName: 'pms-relay',
    onNotification: (channel) => {
      if (channel === OUTBOX_CHANNEL) void sequence();
      else pumpAll();
    },
    onReconnect: () => {
      void sequence();
      pumpAll();
    },
    onError: (error) => log.warn({ err: error }, 'relay listener connection problem'),
  });

  const poller = setInterval(() => {
    void sequence();
    pumpAll();
  }, options.pollMs);
  const sweeper = setInterval(() => void sweep(), Math.max(500, Math.floor(leaseMs / 3)));

  void sweep();
  void sequence();
  pumpAll();
  log.info({ sinks: options.sinks.map((s) => s.name) }, 'outbox relay started');

  return {
    owner,
    wake: () => {
      void sequence();
      pumpAll();
    },
    async stop() {
      stopping = true;
      clearInterval(poller);
      clearInterval(sweeper);
      await listener.close();
      await Promise.allSettled([...running.values()].flatMap((set) => [...set]));
      for (const sink of options.sinks) {
        await sink.close().catch((error) => log.warn({ err: error, sink: sink.name }, 'closing sink failed'));
      }
      log.info('outbox relay stopped');
    },
  };
}
