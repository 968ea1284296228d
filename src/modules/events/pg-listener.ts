import pg from 'pg';
import { connectionSettings } from '../../db/database.ts';

/** The channel the outbox trigger notifies on every committed event (migration 0030). */
export const OUTBOX_CHANNEL = 'pms_outbox';
/** Notified by the sequencer when lanes have new events, so idle relay workers wake up. */
export const LANES_CHANNEL = 'pms_lanes';

/** What the outbox trigger sends: enough to route the event, and the envelope when it fits. */
export interface OutboxNotice {
  seq: number;
  id: string;
  property_id: string | null;
  type: string;
  envelope?: Record<string, unknown>;
}

export function parseOutboxNotice(payload: string): OutboxNotice | undefined {
  try {
    const value = JSON.parse(payload) as Partial<OutboxNotice>;
    if (typeof value.seq !== 'number' || typeof value.id !== 'string' || typeof value.type !== 'string') {
      return undefined;
    }
    const envelope =
      typeof value.envelope === 'object' && value.envelope !== null ? value.envelope : undefined;
    return {
      seq: value.seq,
      id: value.id,
      property_id: value.property_id ?? null,
      type: value.type,
      ...(envelope && { envelope }),
    };
  } catch {
    return undefined;
  }
}

export interface ListenOptions {
  connectionString: string;
  channels: string[];
  applicationName?: string;
  onNotification(channel: string, payload: string): void;
  /** Called when the connection is lost: notifications are missed until onReconnect. */
  onLost?(): void;
  /** Called once the connection is back after a loss: notifications sent meanwhile were missed. */
  onReconnect?(): void;
  onError?(error: unknown): void;
}

export interface PgListener {
  close(): Promise<void>;
}

/**
 * A dedicated connection that LISTENs (a pooled one would be handed to other queries) and
 * reconnects with backoff when PostgreSQL goes away.
 */
export async function listen(options: ListenOptions): Promise<PgListener> {
  let current: pg.Client | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let delay = 250;

  const lost = (client: pg.Client) => {
    if (current !== client) return;
    current = undefined;
    client.end().catch(() => {});
    options.onLost?.();
    schedule();
  };

  const connect = async () => {
    const client = new pg.Client({
      connectionString: options.connectionString,
      application_name: options.applicationName ?? 'pms-listener',
      // A listener only receives: without early keep-alive probes, a server that went away
      // silently would be noticed after two hours.
      ...connectionSettings({}),
    });
    client.on('notification', (message) => options.onNotification(message.channel, message.payload ?? ''));
    client.on('error', (error) => {
      options.onError?.(error);
      lost(client);
    });
    client.on('end', () => lost(client));
    try {
      await client.connect();
      for (const channel of options.channels) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    if (closed) {
      await client.end().catch(() => {});
      return;
    }
    current = client;
    delay = 250;
  };

  const schedule = () => {
    if (closed || timer) return;
    timer = setTimeout(async () => {
      timer = undefined;
      try {
        await connect();
        options.onReconnect?.();
      } catch (error) {
        options.onError?.(error);
        delay = Math.min(delay * 2, 10_000);
        schedule();
      }
    }, delay);
    timer.unref();
  };

  await connect();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const client = current;
      current = undefined;
      await client?.end().catch(() => {});
    },
  };
}
