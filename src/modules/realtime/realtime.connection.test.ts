import { EventEmitter } from 'node:events';
import { SignJWT } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { UnauthenticatedError } from '../../app/errors.ts';
import { createLogger } from '../../app/logger.ts';
import type { Actor } from '../auth/auth.context.ts';
import { type ConnectionHub, MAX_REFUSED_SUBSCRIBES, RealtimeConnection } from './realtime.connection.ts';

const PROPERTY = '0190a0a0-0000-7000-8000-000000000001';
const actor: Actor = { id: 'u1', email: 'u@x', role: 'STAFF', propertyIds: [PROPERTY] };

class FakeSocket extends EventEmitter {
  readyState = 1;
  bufferedAmount = 0;
  sent: any[] = [];
  closedWith: [number, string] | undefined;
  terminated = false;
  pings = 0;
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  ping() {
    this.pings++;
  }
  close(code: number, reason: string) {
    this.closedWith = [code, reason];
  }
  terminate() {
    this.terminated = true;
  }
  message(value: unknown) {
    this.emit('message', Buffer.from(JSON.stringify(value)), false);
  }
}

async function token(expiresInSeconds: number) {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds)
    .sign(new TextEncoder().encode('k'.repeat(32)));
}

function setup(
  options: {
    snapshot?: () => Promise<unknown>;
    authTimeoutMs?: number;
    authenticate?: ConnectionHub['authenticate'];
    admit?: ConnectionHub['admit'];
    takeSubscribe?: ConnectionHub['takeSubscribe'];
  } = {},
) {
  const socket = new FakeSocket();
  const subscribed = new Set<string>();
  const hub: ConnectionHub = {
    ready: async () => {},
    subscribe: (_c, id) => subscribed.add(id),
    unsubscribe: (_c, id) => subscribed.delete(id),
    authenticate:
      options.authenticate ??
      (async (t) => {
        if (t.startsWith('bad')) throw new UnauthenticatedError('The token is not valid.');
        return actor;
      }),
    snapshot: options.snapshot ?? (async () => ({ nights: [] })),
    watch: () => {},
    admit: options.admit ?? (() => true),
    takeSubscribe: options.takeSubscribe ?? (() => 0),
    forget: () => {},
  };
  const connection = new RealtimeConnection(
    'inventory',
    socket as never,
    hub,
    { maxBufferedBytes: 1000, maxPendingEvents: 2, authTimeoutMs: options.authTimeoutMs ?? 10_000 },
    createLogger({ logLevel: 'silent' }),
    undefined,
  );
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { socket, connection, subscribed, settle };
}

describe('RealtimeConnection', () => {
  it('closes a connection that never authenticates once the auth timeout passes', async () => {
    vi.useFakeTimers();
    try {
      const { socket } = setup({ authTimeoutMs: 500 });
      await vi.advanceTimersByTimeAsync(499);
      expect(socket.closedWith).toBeUndefined();
      await vi.advanceTimersByTimeAsync(2);
      expect(socket.sent).toEqual([expect.objectContaining({ type: 'error', code: 'UNAUTHENTICATED' })]);
      expect(socket.closedWith?.[0]).toBe(4401);
    } finally {
      vi.useRealTimers();
    }
  });

  it('drops a client whose unsent bytes exceed the limit instead of buffering without bound', async () => {
    const { socket, connection, settle } = setup();
    socket.message({ type: 'auth', token: await token(600) });
    socket.message({ type: 'subscribe', property_id: PROPERTY });
    await settle();
    await settle();
    connection.deliver(PROPERTY, '{"id":"e1"}');
    expect(socket.sent.at(-1)).toEqual({ type: 'event', seq: 1, event: { id: 'e1' } });
    socket.bufferedAmount = 5000;
    connection.deliver(PROPERTY, '{"id":"e2"}');
    expect(socket.closedWith).toEqual([4008, 'slow consumer']);
    expect(socket.sent.filter((f) => f.type === 'event')).toHaveLength(1);
    connection.deliver(PROPERTY, '{"id":"e3"}');
    expect(socket.sent.filter((f) => f.type === 'event')).toHaveLength(1);
  });

  it('holds events that arrive while the snapshot loads, sends them after it, and bounds that queue', async () => {
    let release!: (value: unknown) => void;
    const { socket, connection, settle } = setup({
      snapshot: () => new Promise((resolve) => (release = resolve)),
    });
    socket.message({ type: 'auth', token: await token(600) });
    socket.message({ type: 'subscribe', property_id: PROPERTY });
    await settle();
    await settle();
    connection.deliver(PROPERTY, '{"id":"e1"}');
    connection.deliver(PROPERTY, '{"id":"e2"}');
    release({ nights: [] });
    await settle();
    expect(socket.sent.map((f) => f.type)).toEqual(['ready', 'snapshot', 'event', 'event']);
    expect(socket.sent.slice(2).map((f) => f.seq)).toEqual([1, 2]);

    const second = setup({ snapshot: () => new Promise(() => {}) });
    second.socket.message({ type: 'auth', token: await token(600) });
    second.socket.message({ type: 'subscribe', property_id: PROPERTY });
    await second.settle();
    await second.settle();
    for (const id of ['a', 'b', 'c']) second.connection.deliver(PROPERTY, `{"id":"${id}"}`);
    expect(second.socket.closedWith?.[0]).toBe(4008);
  });

  it('skips a seq and resends the snapshot when events may have been missed', async () => {
    const { socket, connection, settle } = setup();
    socket.message({ type: 'auth', token: await token(600) });
    socket.message({ type: 'subscribe', property_id: PROPERTY });
    await settle();
    await settle();
    connection.deliver(PROPERTY, '{"id":"e1"}');
    connection.signalGap();
    await settle();
    connection.deliver(PROPERTY, '{"id":"e2"}');
    const frames = socket.sent.map((f) => (f.type === 'event' ? `event${f.seq}` : f.type));
    expect(frames).toEqual(['ready', 'snapshot', 'event1', 'snapshot', 'event3']);
  });

  it('ends the connection when the access token expires, unless the client re-authenticates', async () => {
    vi.useFakeTimers();
    try {
      const { socket } = setup();
      socket.message({ type: 'auth', token: await token(60) });
      await vi.advanceTimersByTimeAsync(30_000);
      socket.message({ type: 'auth', token: await token(120) });
      await vi.advanceTimersByTimeAsync(40_000);
      expect(socket.closedWith).toBeUndefined();
      await vi.advanceTimersByTimeAsync(90_000);
      expect(socket.closedWith?.[0]).toBe(4401);
      expect(socket.sent.at(-1)).toMatchObject({ type: 'error', code: 'UNAUTHENTICATED' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('terminates a client that does not answer a heartbeat ping', async () => {
    const { socket, connection } = setup();
    connection.heartbeat();
    expect(socket.pings).toBe(1);
    socket.emit('pong');
    connection.heartbeat();
    expect(socket.terminated).toBe(false);
    connection.heartbeat();
    expect(socket.terminated).toBe(true);
  });

  it('holds events while its user is re-checked, then ends the subscriptions no longer visible', async () => {
    const other = '0190a0a0-0000-7000-8000-000000000002';
    let current: Actor = { ...actor, propertyIds: [PROPERTY, other] };
    let gate: Promise<void> | undefined;
    let open!: () => void;
    const { socket, connection, subscribed, settle } = setup({
      authenticate: async () => {
        await gate;
        return current;
      },
    });
    socket.message({ type: 'auth', token: await token(600) });
    socket.message({ type: 'subscribe', property_id: PROPERTY });
    socket.message({ type: 'subscribe', property_id: other });
    for (let i = 0; i < 6; i++) await settle();
    expect(socket.sent.filter((f) => f.type === 'snapshot')).toHaveLength(2);

    // The user lost PROPERTY: the re-check is slow, and events meanwhile wait for its answer.
    current = { ...actor, propertyIds: [other] };
    gate = new Promise((resolve) => (open = resolve));
    connection.recheck();
    await settle();
    connection.deliver(PROPERTY, '{"id":"lost"}');
    connection.deliver(other, '{"id":"kept"}');
    expect(socket.sent.filter((f) => f.type === 'event')).toEqual([]);
    open();
    for (let i = 0; i < 4; i++) await settle();
    expect(socket.sent.slice(-2)).toEqual([
      { type: 'unsubscribed', property_id: PROPERTY, reason: 'ACCESS_REVOKED' },
      { type: 'event', seq: 1, event: { id: 'kept' } },
    ]);
    expect([...subscribed]).toEqual([other]);
    expect(socket.closedWith).toBeUndefined();
  });

  it('closes with 4403 and sends nothing more when the re-check refuses the token', async () => {
    let revoked = false;
    const { socket, connection, settle } = setup({
      authenticate: async () => {
        if (revoked) throw new UnauthenticatedError('The account is no longer active.');
        return actor;
      },
    });
    socket.message({ type: 'auth', token: await token(600) });
    socket.message({ type: 'subscribe', property_id: PROPERTY });
    for (let i = 0; i < 4; i++) await settle();
    revoked = true;
    connection.recheck();
    connection.deliver(PROPERTY, '{"id":"after"}');
    for (let i = 0; i < 4; i++) await settle();
    expect(socket.sent.at(-1)).toMatchObject({ type: 'error', code: 'ACCESS_REVOKED' });
    expect(socket.closedWith).toEqual([4403, 'access revoked']);
    expect(socket.sent.filter((f) => f.type === 'event')).toEqual([]);
  });

  it('refuses a socket over its user cap with 4429', async () => {
    const { socket, settle } = setup({ admit: () => false });
    socket.message({ type: 'auth', token: await token(600) });
    for (let i = 0; i < 3; i++) await settle();
    expect(socket.sent).toEqual([expect.objectContaining({ type: 'error', code: 'TOO_MANY_CONNECTIONS' })]);
    expect(socket.closedWith?.[0]).toBe(4429);
  });

  it('answers subscribes over the budget with RATE_LIMITED and closes a client that keeps on', async () => {
    let budget = 2;
    let snapshots = 0;
    const { socket, settle } = setup({
      takeSubscribe: () => (budget-- > 0 ? 0 : 5_000),
      snapshot: async () => {
        snapshots++;
        return { nights: [] };
      },
    });
    socket.message({ type: 'auth', token: await token(600) });
    for (let days = 1; days <= 40; days++) socket.message({ type: 'subscribe', property_id: PROPERTY, days });
    for (let i = 0; i < 60; i++) await settle();
    expect(snapshots).toBe(2);
    const errors = socket.sent.filter((f) => f.type === 'error');
    expect(errors).toHaveLength(MAX_REFUSED_SUBSCRIBES);
    expect(errors.every((f) => f.code === 'RATE_LIMITED' && /retry in 5 s/.test(f.message))).toBe(true);
    expect(socket.closedWith).toEqual([4429, 'rate limited']);
  });

  it('answers a subscribe identical to a live one without loading a snapshot again', async () => {
    let snapshots = 0;
    const { socket, settle } = setup({
      snapshot: async () => {
        snapshots++;
        return { nights: [] };
      },
    });
    socket.message({ type: 'auth', token: await token(600) });
    socket.message({ type: 'subscribe', property_id: PROPERTY });
    socket.message({ type: 'subscribe', property_id: PROPERTY, days: 30 });
    socket.message({ type: 'subscribe', property_id: PROPERTY, days: 7 });
    for (let i = 0; i < 10; i++) await settle();
    expect(socket.sent.map((f) => f.type)).toEqual(['ready', 'snapshot', 'subscribed', 'snapshot']);
    expect(snapshots).toBe(2);
  });
});
