import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestContext, LOOPBACK_EGRESS, type TestContext } from './helpers/context.ts';
import { embeddings, SPECIAL_ADDRESSES } from './helpers/egress-targets.ts';
import { createProperty, userWithToken } from './helpers/factories.ts';

/**
 * What a property administrator may set as a webhook URL or a PMS base URL, through the API: a
 * special-purpose or metadata address is refused in every spelling, whatever the operator allowed,
 * and nothing is stored; a PMS run against a closed port and against a port that does not speak
 * HTTP fails with the same message.
 */

/** Spellings of an address in a URL host; WHATWG URL parsing turns them into the same host. */
function hosts(address: string): string[] {
  if (address.includes(':')) return [`[${address}]`];
  const octets = address.split('.').map(Number);
  const integer = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  return [
    address,
    `${address}.`,
    String(integer),
    `0x${integer.toString(16)}`,
    octets.map((octet) => `0${octet.toString(8)}`).join('.'),
    ...embeddings(address).map((form) => `[${form}]`),
  ];
}

const LOOPBACK_HOSTS = [
  '127.0.0.1',
  '2130706433',
  '0x7f.1',
  '127.1',
  '[::1]',
  '[::ffff:7f00:1]',
  '[2002:7f00:1::1]',
  'localhost',
  'localhost.',
  'api.localhost',
];

describe.each<{ policy: string; env: Record<string, string> }>([
  { policy: '*', env: { WEBHOOK_ALLOWED_NETWORKS: '*', PMS_ALLOWED_NETWORKS: '*' } },
  { policy: 'external (the default)', env: {} },
])('target URLs under $policy', ({ env }) => {
  let t: TestContext;
  let property: string;
  let admin: string;

  beforeAll(async () => {
    t = await createTestContext({ env });
    property = (await createProperty(t.db)).id;
    admin = (await userWithToken(t.app, t.db, { role: 'PROPERTY_ADMIN', propertyIds: [property] })).token;
  });
  afterAll(async () => t?.close());

  const targets = () => [
    ...SPECIAL_ADDRESSES.flatMap(hosts),
    ...(env.WEBHOOK_ALLOWED_NETWORKS === '*' ? [] : LOOPBACK_HOSTS),
  ];

  it('refuses every special-purpose and metadata address as a webhook URL, and stores nothing', async () => {
    for (const host of targets()) {
      const response = await call(t.app, 'POST', '/api/webhooks/', {
        token: admin,
        body: {
          property_id: property,
          url: `http://${host}:8080/hook`,
          event_types: ['pms.reservation.created'],
        },
      });
      expect(response.status, host).toBe(400);
      expect(response.body.code, host).toBe('VALIDATION_ERROR');
      expect(response.body.errors[0].message, host).toMatch(
        /^must not target .*, which WEBHOOK_ALLOWED_NETWORKS/,
      );
    }
    expect(await t.db.selectFrom('webhook_subscription').select('id').execute()).toEqual([]);
  });

  it('refuses every special-purpose and metadata address as a PMS base URL, and stores nothing', async () => {
    for (const host of targets()) {
      const response = await call(t.app, 'PUT', `/api/integrations/pms/connections/${property}/`, {
        token: admin,
        body: {
          pms_type: 'acme',
          version: '2.1',
          base_url: `http://${host}:8080/api`,
          hotel_external_id: 'H1',
          secrets: { api_token: 'abcd' },
        },
      });
      expect(response.status, host).toBe(400);
      expect(response.body.code, host).toBe('VALIDATION_ERROR');
      expect(JSON.stringify(response.body.errors), host).toMatch(
        /must not target .*, which PMS_ALLOWED_NETWORKS/,
      );
    }
    expect(await t.db.selectFrom('pms_connection').select('id').execute()).toEqual([]);
  });
});

describe('a PMS run that gets no HTTP answer', () => {
  let t: TestContext;
  let root: string;
  const accepted = new Set<net.Socket>();
  const banner = net.createServer((socket) => {
    accepted.add(socket);
    socket.on('error', () => {});
    socket.end('SSH-2.0-OpenSSH_9.6\r\n');
  });
  const closed = net.createServer();

  beforeAll(async () => {
    t = await createTestContext({ env: LOOPBACK_EGRESS });
    root = (await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' })).token;
    for (const server of [banner, closed])
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => banner.close(resolve));
    await t?.close();
  });

  it('fails with the same error for a closed port as for a port that does not speak HTTP', async () => {
    const closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const errors: string[] = [];
    for (const base of [closedUrl, `http://127.0.0.1:${(banner.address() as AddressInfo).port}`]) {
      const property = (await createProperty(t.db)).id;
      const connected = await call(t.app, 'PUT', `/api/integrations/pms/connections/${property}/`, {
        token: root,
        body: {
          pms_type: 'acme',
          version: '2.1',
          base_url: base,
          hotel_external_id: 'H1',
          secrets: { api_token: 'abcd' },
        },
      });
      expect(connected.status, base).toBe(201);
      const run = await call(t.app, 'POST', '/api/integrations/pms/sync/', {
        token: root,
        body: { property_id: property, wait: true },
      });
      expect(run.status, base).toBe(200);
      expect(run.body.status, base).toBe('failed');
      // The URL is the tenant's own; what follows it is what the run tells them.
      errors.push(String(run.body.error).replace(base, '<base_url>'));
    }
    expect(errors[0]).toMatch(
      /^<base_url>\/\S+: no HTTP answer \(the connection failed, timed out or did not speak HTTP\) \(after \d+ attempts\)$/,
    );
    expect(errors[1]).toBe(errors[0]);
  });
});
