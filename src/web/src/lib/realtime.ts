import { accessToken, refreshSession } from './api.ts';

/** A committed change as the realtime feeds carry it (CloudEvents 1.0, DESIGN.md §6). */
export interface FeedEvent {
  id: string;
  type: string;
  source?: string;
  time?: string;
  subject?: string;
  data: Record<string, unknown>;
}

export type FeedStatus = 'connecting' | 'live' | 'offline';

export interface FeedHandlers {
  /** The server's state on (re)subscribe, after a reconnect too. */
  onSnapshot?: (data: unknown) => void;
  /** Events were missed (a skipped sequence number): the screen should reload what it shows. */
  onGap?: () => void;
  onEvent: (event: FeedEvent) => void;
  onStatus?: (status: FeedStatus, detail?: string) => void;
}

type ServerMessage =
  | { type: 'snapshot'; property_id: string; data: unknown }
  | { type: 'event'; seq: number; event: FeedEvent }
  | { type: 'error'; code: string; message: string }
  | { type: 'ready'; user_id: string }
  | { type: 'unsubscribed'; property_id: string; reason?: string }
  | { type: 'pong' };

const MAX_BACKOFF_MS = 15_000;

/**
 * Follows /ws/inventory/ or /ws/reservations/ for one property (DESIGN.md §7): authenticates with
 * the first message (browsers cannot set headers on a WebSocket), subscribes, reconnects with
 * backoff when the connection drops, and reports skipped sequence numbers, so the screen never
 * silently misses a change. Returns a function that closes the feed.
 */
export function openFeed(
  channel: 'inventory' | 'reservations',
  propertyId: string,
  handlers: FeedHandlers,
): () => void {
  let socket: WebSocket | null = null;
  let closed = false;
  let attempt = 0;
  let retryTimer: number | undefined;
  let pingTimer: number | undefined;
  let lastSeq: number | null = null;

  const status = (value: FeedStatus, detail?: string) => handlers.onStatus?.(value, detail);
  const send = (message: unknown) => {
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  };

  function scheduleReconnect(detail?: string) {
    window.clearInterval(pingTimer);
    if (closed) return;
    status('offline', detail);
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
    attempt++;
    retryTimer = window.setTimeout(connect, delay);
  }

  function shutDown() {
    closed = true;
    window.clearTimeout(retryTimer);
    window.clearInterval(pingTimer);
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
  }

  /** The server withdrew this user's access: reconnecting would not bring it back, so the feed ends. */
  function stop(detail: string) {
    shutDown();
    status('offline', detail);
  }

  function connect() {
    if (closed) return;
    const token = accessToken();
    if (!token) return scheduleReconnect('signed out');
    status('connecting');
    const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws/${channel}/`;
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: 'auth', token }));
      lastSeq = null;
      ws.send(JSON.stringify({ type: 'subscribe', property_id: propertyId }));
      window.clearInterval(pingTimer);
      pingTimer = window.setInterval(() => send({ type: 'ping' }), 25_000);
    };
    ws.onmessage = (message) => {
      let parsed: ServerMessage;
      try {
        parsed = JSON.parse(String(message.data)) as ServerMessage;
      } catch {
        return;
      }
      if (parsed.type === 'snapshot') {
        if (parsed.property_id && parsed.property_id !== propertyId) return;
        attempt = 0;
        status('live');
        handlers.onSnapshot?.(parsed.data);
      } else if (parsed.type === 'event') {
        if (parsed.event.subject && parsed.event.subject !== propertyId) return;
        // The sequence is per connection; a jump means events were missed (the server also
        // resends a snapshot then), so the screen reloads rather than trusting its patched state.
        if (lastSeq !== null && parsed.seq > lastSeq + 1) handlers.onGap?.();
        lastSeq = parsed.seq;
        attempt = 0;
        status('live');
        handlers.onEvent(parsed.event);
      } else if (parsed.type === 'unsubscribed') {
        if (parsed.reason === 'ACCESS_REVOKED' && parsed.property_id === propertyId)
          stop('Your access to this property was withdrawn.');
      } else if (parsed.type === 'error') {
        if (parsed.code === 'ACCESS_REVOKED') {
          stop('Your access was revoked: sign in again.');
        } else if (parsed.code === 'UNAUTHENTICATED') {
          ws.onclose = null;
          ws.close();
          void refreshSession().then((ok) => (ok ? connect() : scheduleReconnect('signed out')));
        } else {
          status('offline', `${parsed.code}: ${parsed.message}`);
        }
      }
    };
    ws.onclose = () => scheduleReconnect();
  }

  connect();
  return shutDown;
}
