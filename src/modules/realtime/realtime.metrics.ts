import type { FastifyInstance } from 'fastify';
import { Counter, Gauge } from 'prom-client';
import type { HubMetrics } from './realtime.hub.ts';

/** Realtime series on `/metrics`: open sockets, snapshots loaded, and what the caps refused. */
export function registerRealtimeMetrics(app: FastifyInstance): HubMetrics {
  const registers = [app.metrics];
  new Gauge({
    name: 'pms_realtime_connections',
    help: 'WebSocket connections open on this process',
    registers,
    collect() {
      this.set(app.realtime?.size ?? 0);
    },
  });
  const snapshots = new Counter({
    name: 'pms_realtime_snapshots_total',
    help: 'Snapshots loaded for subscribing clients, by feed',
    labelNames: ['feed'],
    registers,
  });
  const refused = new Counter({
    name: 'pms_realtime_refused_total',
    help: 'Sockets and subscribes refused by the realtime caps, by reason',
    labelNames: ['reason'],
    registers,
  });
  return {
    snapshotLoaded: (feed) => snapshots.inc({ feed }),
    refused: (reason) => refused.inc({ reason }),
  };
}
