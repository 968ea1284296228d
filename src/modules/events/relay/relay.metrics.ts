import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import type { Db } from '../../../db/database.ts';
import { readSinkBacklogs, type SinkBacklog } from './lane.repository.ts';
import { readUnsequenced } from './sequencer.repository.ts';

interface Backlog {
  unsequenced: { events: number; oldestAgeSeconds: number };
  sinks: SinkBacklog[];
}

/**
 * How far event delivery is behind, read from the database when Prometheus scrapes `/metrics`:
 * events waiting for the sequencer, and per sink the lanes behind, the lanes failing and the age
 * of the oldest undelivered event (docs/runbook.md). Any API process can answer, since the state
 * lives in PostgreSQL, not in the workers that deliver. A scrape while the database is down reads
 * NaN for the sequencer and no per-sink series, instead of failing the process metrics with them.
 */
export function registerRelayMetrics(app: FastifyInstance, db: Db): void {
  // prom-client starts every gauge's collect at once, so the gauges of one scrape share one read.
  let reading: Promise<Backlog | undefined> | undefined;
  const read = (): Promise<Backlog | undefined> => {
    reading ??= Promise.all([readUnsequenced(db), readSinkBacklogs(db)])
      .then(
        ([unsequenced, sinks]) => ({ unsequenced, sinks }),
        (error: unknown) => {
          app.log.warn({ err: error }, 'could not read the event delivery backlog for /metrics');
          return undefined;
        },
      )
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };

  const registers = [app.metrics];
  new Gauge({
    name: 'pms_outbox_unsequenced_events',
    help: 'Committed events waiting for the relay to give them a position',
    registers,
    async collect() {
      this.set((await read())?.unsequenced.events ?? Number.NaN);
    },
  });
  new Gauge({
    name: 'pms_outbox_sequencing_lag_seconds',
    help: 'Age of the oldest committed event without a position (0 when there is none)',
    registers,
    async collect() {
      this.set((await read())?.unsequenced.oldestAgeSeconds ?? Number.NaN);
    },
  });
  const perSink = (name: string, help: string, value: (sink: SinkBacklog) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['sink'],
      registers,
      async collect() {
        this.reset();
        for (const sink of (await read())?.sinks ?? []) this.set({ sink: sink.sink }, value(sink));
      },
    });
  perSink(
    'pms_event_lanes_behind',
    'Active lanes of a sink with events not yet delivered',
    (s) => s.lanesBehind,
  );
  perSink(
    'pms_event_lanes_failing',
    'Active lanes of a sink whose last delivery failed',
    (s) => s.lanesFailing,
  );
  perSink(
    'pms_event_delivery_lag_seconds',
    'Age of the oldest event a sink has yet to deliver (0 when it is caught up)',
    (s) => s.lagSeconds,
  );
}
