import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEgressPolicy } from '../src/app/egress.ts';
import type { CloudEvent } from '../src/modules/events/outbox.ts';
import { sendWebhook, UNDELIVERABLE } from '../src/modules/events/webhooks/webhook.sender.ts';
import type { PmsConfigDocument } from '../src/modules/integrations/config/config.types.ts';
import { fetchPages } from '../src/modules/integrations/connector/http-connector.ts';
import { privateBudget } from '../src/modules/integrations/connector/rate-budget.ts';
import { NO_HTTP_ANSWER } from '../src/modules/integrations/connector/request.ts';
import { PMSConnectionError } from '../src/modules/integrations/integrations.errors.ts';
import { embeddings, SPECIAL_ADDRESSES } from './helpers/egress-targets.ts';

/**
 * Webhook deliveries and PMS pulls through the real egress dispatcher (undici, its connector and
 * DNS lookup) at real listeners on 127.0.0.1 and ::1: an address the policy leaves out is never
 * connected to, in whatever spelling it reaches the connector, and special-purpose addresses never
 * are, whatever the policy says.
 */

const SECRET_BODY = 'internal-service-secret-4f1c';
const REFUSED =
  /(is not an address this server may reach \(allowed: [^)]*\)|does not resolve to an address this server may reach)\.$/;

interface Listener {
  port: number;
  connections: number;
  close(): Promise<void>;
}

async function listen(host: string, onConnection?: (socket: net.Socket) => void): Promise<Listener> {
  const server = onConnection
    ? net.createServer(onConnection)
    : http.createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ items: [SECRET_BODY] }));
      });
  const sockets = new Set<net.Socket>();
  const listener = {
    port: 0,
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
  server.on('connection', (socket: net.Socket) => {
    listener.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  listener.port = (server.address() as AddressInfo).port;
  return listener;
}

/** Sockets this process opens: a refused address must not get one. */
let socketsOpened = 0;
const countSocket = () => {
  socketsOpened++;
};

const event = {
  specversion: '1.0',
  id: '0190a5b0-0000-7000-8000-000000000001',
  type: 'pms.reservation.created',
  source: 'pms',
  time: new Date().toISOString(),
  datacontenttype: 'application/json',
  data: {},
} as unknown as CloudEvent;

const webhook = (url: string, networks: string, timeoutMs = 3_000) =>
  sendWebhook({
    url,
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    event,
    timeoutMs,
    allowedNetworks: parseEgressPolicy(networks).policy,
  });

const pmsConfig = (timeoutMs = 3_000): PmsConfigDocument => ({
  pms_type: 'test',
  version: '1',
  source: {
    request: { path: '/b', timeout_ms: timeoutMs },
    records: '$.items[*]',
    retry: { max_attempts: 1 },
  },
  field_mappings: {},
});

/** Pulls one PMS page; the records when it worked, the run's error text when it did not. */
async function pms(
  url: string,
  networks: string,
  timeoutMs = 3_000,
): Promise<unknown[] | PMSConnectionError> {
  try {
    const pages: unknown[] = [];
    for await (const page of fetchPages({
      config: pmsConfig(timeoutMs),
      baseUrl: url,
      hotelExternalId: 'H1',
      secrets: {},
      cursor: null,
      budget: privateBudget(undefined),
      allowedNetworks: parseEgressPolicy(networks).policy,
    }))
      pages.push(...page.records);
    return pages;
  } catch (error) {
    if (error instanceof PMSConnectionError) return error;
    throw error;
  }
}

let v4: Listener;
let v6: Listener;

beforeAll(async () => {
  v4 = await listen('127.0.0.1');
  v6 = await listen('::1');
  diagnostics.subscribe('net.client.socket', countSocket);
});
afterAll(async () => {
  diagnostics.unsubscribe('net.client.socket', countSocket);
  await v4?.close();
  await v6?.close();
});

/** Every spelling of a loopback address that reaches a listener on 127.0.0.1 (port p) or ::1 (port p6). */
const reachingLoopback = (p: number, p6: number) => [
  `http://127.0.0.1:${p}/`,
  `http://2130706433:${p}/`,
  `http://0177.0.0.1:${p}/`,
  `http://0x7f.1:${p}/`,
  `http://0x7f000001:${p}/`,
  `http://127.1:${p}/`,
  `http://127.000.000.001:${p}/`,
  `http://%31%32%37.0.0.1:${p}/`,
  `http://１２７.０.０.１:${p}/`,
  `http://127.0.0.1.:${p}/`,
  `http://[::ffff:127.0.0.1]:${p}/`,
  `http://[::ffff:7f00:1]:${p}/`,
  `http://[0:0:0:0:0:ffff:7f00:1]:${p}/`,
  `http://localhost:${p}/`,
  `http://[::1]:${p6}/`,
  `http://[0:0:0:0:0:0:0:1]:${p6}/`,
  `http://[::0001]:${p6}/`,
];

/** Forms that carry a loopback address without routing to it here: refused all the same. */
const carryingLoopback = (p: number) => [
  `http://[::127.0.0.1]:${p}/`,
  `http://[2002:7f00:1::1]:${p}/`,
  `http://[64:ff9b::7f00:1]:${p}/`,
  `http://api.localhost:${p}/`,
  `http://LocalHost.:${p}/`,
];

/** The unspecified address reaches local listeners on Linux: never allowed. */
const unspecified = (p: number, p6: number) => [
  `http://0.0.0.0:${p}/`,
  `http://0:${p}/`,
  `http://0x0:${p}/`,
  `http://[::ffff:0.0.0.0]:${p}/`,
  `http://[::]:${p6}/`,
];

/** A special-purpose address as a URL host, in every spelling a tenant might write it. */
function spellings(address: string): string[] {
  if (address.includes(':')) return [`http://[${address}]/`];
  const octets = address.split('.').map(Number);
  const integer = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  return [
    `http://${address}/`,
    `http://${address}./`,
    `http://${integer}/`,
    `http://0x${integer.toString(16)}/`,
    `http://${octets.map((octet) => `0${octet.toString(8)}`).join('.')}/`,
    `http://${octets[0]}.${(integer & 0xffffff).toString()}/`,
    ...embeddings(address).map((form) => `http://[${form}]/`),
  ];
}

describe('what the egress dispatcher refuses, for webhooks and PMS pulls alike', () => {
  it('with a policy that leaves loopback out, no spelling of a loopback address reaches the listeners', async () => {
    for (const networks of ['external', 'external,private', '10.0.0.0/8,fd00::/8']) {
      for (const url of [...reachingLoopback(v4.port, v6.port), ...carryingLoopback(v4.port)]) {
        const before = { v4: v4.connections, v6: v6.connections };
        const attempt = await webhook(url, networks);
        expect(attempt, `${url} under ${networks}`).toMatchObject({ ok: false, responseStatus: null });
        expect(attempt.error, `${url} under ${networks}`).toMatch(REFUSED);
        const pulled = await pms(url, networks);
        expect(pulled, `${url} under ${networks}`).toBeInstanceOf(PMSConnectionError);
        expect((pulled as PMSConnectionError).reason, url).toMatch(REFUSED);
        expect({ v4: v4.connections, v6: v6.connections }, `${url} under ${networks}`).toEqual(before);
      }
    }
  });

  it('reaches the same listeners through the same spellings when the policy names loopback (the control)', async () => {
    for (const url of reachingLoopback(v4.port, v6.port)) {
      const before = v4.connections + v6.connections;
      expect(await webhook(url, 'external,loopback'), url).toMatchObject({ ok: true, responseStatus: 200 });
      expect(await pms(url, 'loopback'), url).toEqual([SECRET_BODY]);
      expect(v4.connections + v6.connections, url).toBe(before + 2);
    }
  });

  it('never connects to the unspecified address, even under *, loopback or 0.0.0.0/0', async () => {
    for (const networks of ['*', 'external,private,loopback', '0.0.0.0/0,::/0']) {
      for (const url of unspecified(v4.port, v6.port)) {
        const before = { v4: v4.connections, v6: v6.connections, sockets: socketsOpened };
        expect((await webhook(url, networks)).error, `${url} under ${networks}`).toMatch(REFUSED);
        expect(((await pms(url, networks)) as PMSConnectionError).reason, url).toMatch(REFUSED);
        expect({ v4: v4.connections, v6: v6.connections, sockets: socketsOpened }, url).toEqual(before);
      }
    }
  });

  it('refuses every special-purpose and metadata address in every spelling before opening a socket, whatever the policy', async () => {
    let tried = 0;
    for (const address of SPECIAL_ADDRESSES) {
      const naming = `${address}/${address.includes(':') ? 128 : 32}`;
      for (const networks of ['*', naming]) {
        for (const url of spellings(address)) {
          const before = socketsOpened;
          const attempt = await webhook(url, networks);
          expect(attempt.error, `${url} under ${networks}`).toMatch(REFUSED);
          const pulled = await pms(url, networks);
          expect((pulled as PMSConnectionError).reason, `${url} under ${networks}`).toMatch(REFUSED);
          expect(socketsOpened, `${url} under ${networks}: sockets opened`).toBe(before);
          tried++;
        }
      }
    }
    expect(tried).toBeGreaterThan(300);
  });
});

describe('what a tenant learns from a failed connection', () => {
  it('reads the same message for a closed port, an open port that is not HTTP, one that never answers, and TLS to a plain port; the server log gets the cause', async () => {
    const closed = await listen('127.0.0.1');
    await closed.close();
    const banner = await listen('127.0.0.1', (socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\n'));
    const silentAfterBanner = await listen('127.0.0.1', (socket) => socket.write('220 smtp ready\r\n'));
    const reset = await listen('127.0.0.1', (socket) => socket.resetAndDestroy());
    const hanging = await listen('127.0.0.1', () => {});
    const targets = {
      closed: `http://127.0.0.1:${closed.port}/`,
      banner: `http://127.0.0.1:${banner.port}/`,
      smtp: `http://127.0.0.1:${silentAfterBanner.port}/`,
      reset: `http://127.0.0.1:${reset.port}/`,
      hanging: `http://127.0.0.1:${hanging.port}/`,
      tlsToPlainHttp: `https://127.0.0.1:${v4.port}/`,
    };
    try {
      const webhookErrors: Record<string, string | null> = {};
      const webhookDetails = new Set<string | null>();
      const pmsErrors: Record<string, string> = {};
      const pmsDetails = new Set<string | undefined>();
      for (const [name, url] of Object.entries(targets)) {
        const attempt = await webhook(url, 'loopback', 500);
        expect(attempt, name).toMatchObject({ ok: false, responseStatus: null });
        expect(Object.keys(attempt).sort()).toEqual([
          'detail',
          'durationMs',
          'error',
          'ok',
          'responseStatus',
        ]);
        webhookErrors[name] = attempt.error;
        webhookDetails.add(attempt.detail);
        const pulled = (await pms(url, 'loopback', 500)) as PMSConnectionError;
        expect(pulled, name).toBeInstanceOf(PMSConnectionError);
        // The URL is the tenant's own; what follows it is what they learn.
        pmsErrors[name] = pulled.reason.replace(/^\S+: /, '');
        pmsDetails.add(pulled.detail);
      }
      for (const name of Object.keys(targets)) {
        expect(webhookErrors[name], name).toBe(UNDELIVERABLE);
        expect(pmsErrors[name], name).toBe(NO_HTTP_ANSWER);
      }
      // Operators still tell them apart.
      expect(webhookDetails.size).toBeGreaterThanOrEqual(4);
      expect(pmsDetails.size).toBeGreaterThanOrEqual(4);
    } finally {
      for (const listener of [banner, silentAfterBanner, reset, hanging]) await listener.close();
    }
  });

  it('keeps no part of what the target answered', async () => {
    const attempt = await webhook(`http://127.0.0.1:${v4.port}/`, 'loopback');
    expect(attempt).toMatchObject({ ok: true, responseStatus: 200, error: null });
    expect(JSON.stringify(attempt)).not.toContain(SECRET_BODY);
  });
});
