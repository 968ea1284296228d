import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as configs from '../../src/modules/integrations/config/config.repository.ts';
import type { PmsConfigDocument, SourceSpec } from '../../src/modules/integrations/config/config.types.ts';
import { configChecksum } from '../../src/modules/integrations/config/config.validate.ts';
import { call, createTestContext, LOOPBACK_EGRESS, type TestContext } from '../helpers/context.ts';
import { createProperty, createRoomType, unique, userWithToken } from '../helpers/factories.ts';
import { type SeenRequest, type TestServer, testServer } from '../helpers/http-servers.ts';

/**
 * Config format v2's transport, end to end through the API on a real PostgreSQL, against real
 * HTTP servers on 127.0.0.1: a queue acknowledged after commit (and an acknowledgement that
 * fails), windows whose cursor moves per committed span, OAuth2 with a token refreshed mid-run and
 * secrets that follow the token URL only when given again, and previews of sample answers.
 */
let t: TestContext;
let superToken: string;
const servers: TestServer[] = [];
async function serve(handler: Parameters<typeof testServer>[0]) {
  const server = await testServer(handler);
  servers.push(server);
  return server;
}

beforeAll(async () => {
  t = await createTestContext({ env: LOOPBACK_EGRESS });
  superToken = (await userWithToken(t.app, t.db, { role: 'SUPER_ADMIN' })).token;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await t?.close();
});

const MAPPINGS: PmsConfigDocument['field_mappings'] = {
  external_id: { path: '$.booking_id', transform: 'to_string' },
  status: { const: 'confirmed' },
  check_in: { path: '$.arrival' },
  check_out: { path: '$.departure' },
  room_type_code: { const: 'STD' },
  source_updated_at: { path: '$.updated', transform: 'parse_datetime' },
};

/** Uploads a config through the API (schema and lint included). */
async function upload(source: Partial<SourceSpec> & Pick<SourceSpec, 'request'>, version = unique('v')) {
  const document = {
    pms_type: 'transport',
    version,
    source: { records: '$.data[*]', ...source },
    field_mappings: MAPPINGS,
  };
  const res = await call(t.app, 'POST', '/api/integrations/pms/configs/', {
    token: superToken,
    body: document,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return document as PmsConfigDocument;
}

async function hotel(version: string, baseUrl: string, secrets: Record<string, string>) {
  const property = await createProperty(t.db);
  await createRoomType(t.db, property.id, { code: 'STD', totalUnits: 100 });
  const url = `/api/integrations/pms/connections/${property.id}/`;
  const body = { pms_type: 'transport', version, base_url: baseUrl, hotel_external_id: unique('H') };
  const res = await call(t.app, 'PUT', url, { token: superToken, body: { ...body, secrets } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const sync = async () => {
    const run = await call(t.app, 'POST', '/api/integrations/pms/sync/', {
      token: superToken,
      body: { property_id: property.id, wait: true },
    });
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    return run.body;
  };
  const put = (changes: Record<string, unknown>) =>
    call(t.app, 'PUT', url, { token: superToken, body: { ...body, ...changes } });
  const reservations = () =>
    t.db
      .selectFrom('reservation')
      .select(['external_id'])
      .where('property_id', '=', property.id)
      .orderBy('external_id')
      .execute()
      .then((rows) => rows.map((r) => r.external_id));
  const connection = () =>
    t.db
      .selectFrom('pms_connection')
      .selectAll()
      .where('property_id', '=', property.id)
      .executeTakeFirstOrThrow();
  return { property, sync, put, reservations, connection };
}

const revision = (id: string, booking: string, updated = '2031-01-01T00:00:00Z') => ({
  id,
  booking_id: booking,
  arrival: '2031-05-01',
  departure: '2031-05-03',
  updated,
});

describe('a queue, acknowledged after each commit', () => {
  it('an acknowledgement that fails is kept and sent again; the redelivered booking is not duplicated', async () => {
    const queue = [revision('rev-1', 'B1'), revision('rev-2', 'B2'), revision('rev-3', 'B3')];
    let refuse = 2; // rev-2's acknowledgement fails twice
    const acks: string[] = [];
    const server = await serve((request: SeenRequest) => {
      if (request.headers['user-api-key'] !== 'channex-key') return { status: 401 };
      const ack = /^\/api\/v1\/booking_revisions\/([^/]+)\/ack$/.exec(request.url.pathname);
      if (ack) {
        acks.push(ack[1]!);
        if (ack[1] === 'rev-2' && refuse > 0) {
          refuse -= 1;
          return { status: 500, body: { errors: { title: 'try later' } } };
        }
        const at = queue.findIndex((r) => r.id === ack[1]);
        if (at >= 0) queue.splice(at, 1);
        return { body: { meta: { message: 'Success' } } };
      }
      return { body: { data: queue.slice(0, 2) } };
    });
    const config = await upload({
      request: { path: '/api/v1/booking_revisions/feed', headers: { 'user-api-key': '{secret.api_key}' } },
      pagination: { type: 'queue' },
      ack: {
        per: 'record',
        values: { id: '$.id' },
        request: {
          method: 'POST',
          path: '/api/v1/booking_revisions/{ack.id}/ack',
          headers: { 'user-api-key': '{secret.api_key}' },
        },
      },
      retry: { max_attempts: 1 },
    });
    const h = await hotel(config.version, server.url, { api_key: 'channex-key' });

    const first = await h.sync();
    expect(first).toMatchObject({ status: 'succeeded', fetched: 2, created: 2 });
    expect(first.warnings).toMatchObject({
      pending_acks: 1,
      ack_error: expect.stringMatching(/rev-2\/ack answered HTTP 500/),
    });
    expect(acks).toEqual(['rev-1', 'rev-2']);
    // Reading stopped at the refused acknowledgement: what follows would only come back again.
    expect(queue.map((r) => r.id)).toEqual(['rev-2', 'rev-3']);
    const pending = await t.db.selectFrom('pms_pending_ack').selectAll().execute();
    expect(pending.filter((row) => row.ack_key.includes('rev-'))).toMatchObject([
      { ack_key: 'r:{"id":"rev-2"}', attempts: 1, last_error: expect.stringMatching(/HTTP 500/) },
    ]);

    const second = await h.sync();
    // The stored acknowledgement fails once more; the queue delivers rev-2 again, found unchanged.
    expect(second).toMatchObject({ status: 'succeeded', fetched: 2, created: 1, unchanged: 1 });
    expect(second.warnings).not.toHaveProperty('pending_acks');
    expect(acks).toEqual(['rev-1', 'rev-2', 'rev-2', 'rev-2', 'rev-3']);
    expect(queue).toEqual([]);
    expect(await h.reservations()).toEqual(['B1', 'B2', 'B3']);
    const left = await t.db
      .selectFrom('pms_pending_ack')
      .selectAll()
      .where('connection_id', '=', (await h.connection()).id)
      .execute();
    expect(left).toEqual([]);

    const idle = await h.sync();
    expect(idle).toMatchObject({ status: 'succeeded', fetched: 0, pages: 0 });
  });
});

describe('windows', () => {
  it('splits the time since the cursor into spans, moves the cursor per committed span, and a failed span keeps the last one', async () => {
    const DAY = 86_400_000;
    const start = Date.now() - 100 * DAY;
    const data = Array.from({ length: 10 }, (_, i) =>
      revision(`m${i}`, `M${i}`, new Date(start + i * 10 * DAY + DAY).toISOString()),
    );
    let failFrom: number | undefined = start + 60 * DAY;
    const server = await serve((request) => {
      const body = JSON.parse(request.body);
      if (body.AccessToken !== 'mews-token') return { status: 401, body: { Message: 'Invalid AccessToken' } };
      const from = Date.parse(body.UpdatedUtc.StartUtc);
      const to = Date.parse(body.UpdatedUtc.EndUtc);
      if (to - from > 31 * DAY) return { status: 400, body: { Message: 'The interval is too long' } };
      if (failFrom !== undefined && from >= failFrom) return { status: 503, body: { Message: 'down' } };
      return {
        body: {
          Reservations: data.filter((r) => Date.parse(r.updated) >= from && Date.parse(r.updated) < to),
        },
      };
    });
    const config = await upload({
      request: {
        method: 'POST',
        path: '/api/connector/v1/reservations/getAll/2023-06-06',
        body: {
          json: {
            ClientToken: 'client',
            AccessToken: '{secret.access_token}',
            UpdatedUtc: { StartUtc: '{window.start}', EndUtc: '{window.end}' },
          },
        },
      },
      records: '$.Reservations[*]',
      response: { failure: [{ path: '$.Message', exists: true, message_path: '$.Message' }] },
      incremental: {
        cursor_format: 'iso8601',
        initial: new Date(start).toISOString(),
        window: { max_days: 30 },
      },
      retry: { max_attempts: 1 },
    });
    const h = await hotel(config.version, server.url, { access_token: 'mews-token' });

    const failed = await h.sync();
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/answered HTTP 503: down/);
    // Spans one and two were committed, with their cursor; the third failed.
    const spanEnd = new Date(start + 60 * DAY).toISOString();
    expect(failed.cursor_after).toBe(spanEnd);
    expect((await h.connection()).cursor).toBe(spanEnd);
    expect(await h.reservations()).toEqual(['M0', 'M1', 'M2', 'M3', 'M4', 'M5']);

    failFrom = undefined;
    server.requests.length = 0;
    const done = await h.sync();
    expect(done).toMatchObject({ status: 'succeeded', created: 4 });
    expect(JSON.parse(server.requests[0]!.body).UpdatedUtc.StartUtc).toBe(spanEnd);
    expect(server.requests).toHaveLength(2);
    expect(await h.reservations()).toEqual(['M0', 'M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'M7', 'M8', 'M9']);
    expect(Date.parse((await h.connection()).cursor!)).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe('OAuth2 client credentials', () => {
  async function identityServer() {
    let issued = 0;
    const server = await serve((request) => {
      if (request.headers.authorization !== `Basic ${Buffer.from('client-id-1:csecret').toString('base64')}`)
        return { status: 401, body: { error: 'invalid_client' } };
      issued += 1;
      return {
        body: {
          access_token: `token-${issued}-${server.url.slice(-5)}-padding`,
          expires_in: 3600,
          token_type: 'Bearer',
        },
      };
    });
    return Object.assign(server, { issued: () => issued });
  }

  it('refreshes a token revoked mid-run once, and sends the secrets to a new token URL only when given again', async () => {
    const identity = await identityServer();
    const otherIdentity = await identityServer();
    const thirdIdentity = await identityServer();
    const uses = new Map<string, number>();
    const api = await serve((request) => {
      const token = String(request.headers.authorization ?? '').replace('Bearer ', '');
      if (!token.startsWith('token-')) return { status: 401 };
      const used = (uses.get(token) ?? 0) + 1;
      uses.set(token, used);
      // The first identity server's first token is revoked after two pages.
      if (token === `token-1-${identity.url.slice(-5)}-padding` && used > 2) return { status: 401 };
      const page = Number(request.url.searchParams.get('pageNumber'));
      const data = page <= 4 ? [revision(`o${page}`, `O${page}`)] : [];
      return { body: { count: 4, data } };
    });
    const source = (tokenUrl: string): Partial<SourceSpec> & Pick<SourceSpec, 'request'> => ({
      request: { path: '/booking/v1/bookings' },
      auth: {
        type: 'oauth2_client_credentials',
        token_url: `${tokenUrl}/connect/token`,
        client_id: '{secret.client_id}',
        client_secret: '{secret.client_secret}',
      },
      pagination: { type: 'page_number', param: 'pageNumber', total_path: '$.count' },
    });
    const a = await upload(source(identity.url));
    const b = await upload(source(otherIdentity.url));
    const secrets = { client_id: 'client-id-1', client_secret: 'csecret' };
    const h = await hotel(a.version, api.url, secrets);
    expect((await h.connection()).secret_origins).toEqual([identity.origin]);

    const run = await h.sync();
    expect(run).toMatchObject({ status: 'succeeded', created: 4 });
    expect(identity.issued()).toBe(2);
    expect(api.requests.map((r) => r.url.searchParams.get('pageNumber'))).toEqual(['1', '2', '3', '3', '4']);
    const stored = JSON.stringify([
      run,
      await t.db.selectFrom('sync_run').selectAll().execute(),
      await t.db.selectFrom('audit_log').selectAll().execute(),
      await h.connection(),
    ]);
    expect(stored).not.toMatch(/token-\d-/);
    expect(stored).not.toContain('csecret');

    // Another config whose token URL is elsewhere: the stored secrets do not follow without being given.
    const before = await h.connection();
    const moved = await h.put({ version: b.version });
    expect(moved.status).toBe(400);
    expect(moved.body.code).toBe('SECRETS_REQUIRED');
    expect(moved.body.errors[0].message).toContain(otherIdentity.origin);
    expect(await h.connection()).toEqual(before);
    const given = await h.put({ version: b.version, secrets });
    expect(given.status, JSON.stringify(given.body)).toBe(200);
    expect(await h.sync()).toMatchObject({ status: 'succeeded' });
    expect(otherIdentity.issued()).toBe(1);

    // The same config version re-pointed at a third token URL (an operator's upload): the run
    // refuses to send the secrets there, and nothing reaches it.
    const replaced = { ...b, source: { ...b.source, ...source(thirdIdentity.url) } } as PmsConfigDocument;
    await t.db
      .transaction()
      .execute((tx) => configs.upsertConfig(tx, replaced, configChecksum(replaced), 'upload', null));
    const refused = await h.sync();
    expect(refused.status).toBe('failed');
    expect(refused.error).toMatch(
      /an origin the connection's secrets were not given for: PUT the connection with its secrets again/,
    );
    expect(thirdIdentity.requests).toHaveLength(0);
  });
});

describe('preview of a sample answer', () => {
  const preview = (body: Record<string, unknown>) =>
    call(t.app, 'POST', '/api/integrations/pms/configs/preview/', { token: superToken, body });
  const documentOf = (source: Record<string, unknown>) => ({
    pms_type: 'transport',
    version: 'preview',
    source: { request: { path: '/x' }, records: '$.data[*]', ...source },
    field_mappings: MAPPINGS,
  });

  it('extracts the records of a JSON or XML answer as the connector does, then maps them', async () => {
    const json = await preview({
      config: documentOf({
        response: { failure: [{ path: '$.success', equals: false, message_path: '$.message' }] },
      }),
      response_body: JSON.stringify({
        success: true,
        data: [revision('r1', 'P1'), { booking_id: 'P2' }],
        count: 2,
      }),
    });
    expect(json.status, JSON.stringify(json.body)).toBe(200);
    expect(json.body.records).toHaveLength(2);
    expect(json.body).toMatchObject({ mapped: 1, failed: 1 });
    expect(json.body.results[0].booking).toMatchObject({ external_id: 'P1', check_in: '2031-05-01' });

    const xmlConfig = {
      ...documentOf({
        records: "$..HotelReservation[?(@['@ResStatus'] != 'Test')]",
        response: {
          format: 'xml',
          xml: { array_elements: ['HotelReservation'] },
          failure: [
            {
              path: '$.Envelope.Body.Fault',
              exists: true,
              message_path: '$.Envelope.Body.Fault.faultstring',
            },
          ],
        },
      }),
      field_mappings: {
        external_id: { path: "$.UniqueID['@ID']" },
        status: {
          path: "$['@ResStatus']",
          transform: { name: 'lookup', table: { Book: 'confirmed', Cancel: 'cancelled' } },
        },
        check_in: { path: "$.TimeSpan['@Start']" },
        check_out: { path: "$.TimeSpan['@End']" },
      },
    };
    const soap =
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><OTA_ResRetrieveRS><ReservationsList>' +
      '<HotelReservation ResStatus="Book"><UniqueID ID="S1"/><TimeSpan Start="2031-06-01" End="2031-06-04"/></HotelReservation>' +
      '<HotelReservation ResStatus="Test"><UniqueID ID="T"/></HotelReservation>' +
      '</ReservationsList></OTA_ResRetrieveRS></soap:Body></soap:Envelope>';
    const xml = await preview({ config: xmlConfig, response_body: soap });
    expect(xml.status, JSON.stringify(xml.body)).toBe(200);
    expect(xml.body.records).toEqual([
      {
        '@ResStatus': 'Book',
        UniqueID: { '@ID': 'S1' },
        TimeSpan: { '@Start': '2031-06-01', '@End': '2031-06-04' },
      },
    ]);
    expect(xml.body.results[0].booking).toMatchObject({
      external_id: 'S1',
      status: 'confirmed',
      check_out: '2031-06-04',
    });

    const fault = await preview({
      config: xmlConfig,
      response_body:
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode>' +
        '<faultstring>Invalid credentials</faultstring></soap:Fault></soap:Body></soap:Envelope>',
    });
    expect(fault.status).toBe(400);
    expect(fault.body.errors).toEqual([
      {
        pointer: '/body/response_body',
        message: 'is an answer the connector fails: the PMS reported a failure: Invalid credentials',
      },
    ]);
  });

  it('refuses an XML bomb, a body that is not what the config reads, and a request with both or neither', async () => {
    const xmlConfig = documentOf({ records: '$.r.i[*]', response: { format: 'xml' } });
    const bomb = await preview({
      config: xmlConfig,
      response_body:
        '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><r><i>&b;</i></r>',
    });
    expect(bomb.status).toBe(400);
    expect(bomb.body.errors[0].message).toMatch(/document type declaration .* refused/);
    const notJson = await preview({ config: documentOf({}), response_body: '<xml/>' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.errors).toEqual([
      { pointer: '/body/response_body', message: 'is a body that is not JSON' },
    ]);
    const wrongShape = await preview({ config: documentOf({}), response_body: '{"items": []}' });
    expect(wrongShape.body.errors[0].message).toMatch(/answered without a list at \$\.data/);
    for (const body of [
      { config: documentOf({}) },
      { config: documentOf({}), records: [revision('a', 'A')], response_body: '{"data": []}' },
    ]) {
      const res = await preview(body);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([
        { pointer: '/body/records', message: expect.stringMatching(/either records or response_body/) },
      ]);
    }
  });
});
