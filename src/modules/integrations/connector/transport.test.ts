import { afterEach, describe, expect, it } from 'vitest';
import {
  type Reply,
  type SeenRequest,
  type TestServer,
  testServer,
} from '../../../../test/helpers/http-servers.ts';
import { parseEgressPolicy } from '../../../app/egress.ts';
import type { PmsConfigDocument, SourceSpec } from '../config/config.types.ts';
import { PMSConnectionError } from '../integrations.errors.ts';
import { createConnector, type FetchedPage, type FetchPlan, fetchPages } from './http-connector.ts';
import { redactor } from './placeholders.ts';
import { privateBudget } from './rate-budget.ts';

/** Config format v2 against real HTTP servers on 127.0.0.1: bodies, auth, XML, paging, windows, queues. */

const loopback = parseEgressPolicy('external,loopback').policy;
const SECRET = 'sekret-<&"token>';
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function serve(handler: (request: SeenRequest) => Reply | Promise<Reply>) {
  const server = await testServer(handler);
  servers.push(server);
  return server;
}

const config = (source: Partial<SourceSpec>): PmsConfigDocument => ({
  pms_type: 'test',
  version: '2',
  source: { request: { path: '/h/{hotel.external_id}/b' }, records: '$.items[*]', ...source },
  field_mappings: {},
});

const plan = (cfg: PmsConfigDocument, baseUrl: string, extra: Partial<FetchPlan> = {}): FetchPlan => ({
  config: cfg,
  baseUrl,
  hotelExternalId: 'H1',
  secrets: { token: SECRET, user: 'api-user', client_id: 'client-1', client_secret: 'client-secret-1' },
  cursor: null,
  budget: privateBudget(undefined),
  allowedNetworks: loopback,
  ...extra,
});

async function collect(p: FetchPlan): Promise<FetchedPage[]> {
  const pages: FetchedPage[] = [];
  for await (const page of fetchPages(p)) pages.push(page);
  return pages;
}
const records = (pages: FetchedPage[]) => pages.flatMap((p) => p.records);

async function failure(p: FetchPlan): Promise<PMSConnectionError> {
  try {
    await collect(p);
  } catch (error) {
    if (error instanceof PMSConnectionError) return error;
    throw error;
  }
  throw new Error('the fetch did not fail');
}

describe('requests: any method, a body template, typed placeholders', () => {
  it('carries credentials and the page cursor in a JSON body, typed (Mews: Limitation.Cursor, Count)', async () => {
    const all = Array.from({ length: 5 }, (_, i) => ({ Id: `r${i}` }));
    const server = await serve((request) => {
      const body = JSON.parse(request.body);
      if (body.AccessToken !== SECRET) return { status: 401, body: { Message: 'Invalid AccessToken' } };
      const at = body.Limitation.Cursor === null ? 0 : Number(String(body.Limitation.Cursor).slice(1)) + 1;
      const page = all.slice(at, at + body.Limitation.Count);
      return { body: { Reservations: page, Cursor: page.at(-1)?.Id ?? null } };
    });
    const cfg = config({
      request: {
        method: 'POST',
        path: '/api/connector/v1/reservations/getAll/2023-06-06',
        body: {
          json: {
            ClientToken: 'client',
            AccessToken: '{secret.token}',
            Client: 'pms 1.0',
            ServiceIds: ['{hotel.external_id}'],
            Limitation: { Cursor: '{page_cursor}', Count: '{limit}' },
          },
        },
      },
      records: '$.Reservations[*]',
      pagination: { type: 'cursor', next_path: '$.Cursor', limit: 2 },
    });
    expect(records(await collect(plan(cfg, server.url)))).toEqual(all);
    const bodies = server.requests.map((r) => JSON.parse(r.body));
    // The first page has no cursor: null, not "null"; the page size is a number.
    expect(bodies.map((b) => b.Limitation)).toEqual([
      { Cursor: null, Count: 2 },
      { Cursor: 'r1', Count: 2 },
      { Cursor: 'r3', Count: 2 },
    ]);
    expect(bodies[0].ServiceIds).toEqual(['H1']);
    expect(
      server.requests.every((r) => r.method === 'POST' && r.headers['content-type'] === 'application/json'),
    ).toBe(true);
  });

  it('sends a form body, and XML with every value escaped (WS-Security in a SOAP header)', async () => {
    const server = await serve((request) =>
      request.url.pathname === '/form'
        ? { body: { items: [Object.fromEntries(new URLSearchParams(request.body))] } }
        : { body: { items: [{ xml: request.body }] } },
    );
    const form = config({
      request: {
        method: 'POST',
        path: '/form',
        body: { form: { propertyID: '{hotel.external_id}', key: '{secret.token}', since: '{cursor}' } },
      },
      incremental: { cursor_path: '$.x', cursor_format: 'epoch_seconds', initial: '0' },
    });
    expect(records(await collect(plan(form, server.url)))).toEqual([
      { propertyID: 'H1', key: SECRET, since: '0' },
    ]);
    expect(server.requests[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');

    const soap = config({
      request: {
        method: 'POST',
        path: '/soap',
        headers: { SOAPAction: 'http://www.opentravel.org/OTA/2003/05/ReadRQ' },
        body: {
          xml:
            '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><wsse:Security>' +
            '<wsse:UsernameToken><wsse:Username>{secret.user}</wsse:Username><wsse:Password>{secret.token}</wsse:Password>' +
            '</wsse:UsernameToken></wsse:Security></soap:Header><soap:Body><OTA_ReadRQ TimeStamp="{now}">' +
            '<HotelReadRequest HotelCode="{hotel.external_id}"/></OTA_ReadRQ></soap:Body></soap:Envelope>',
        },
      },
    });
    const [record] = records(await collect(plan(soap, server.url))) as Array<{ xml: string }>;
    expect(record!.xml).toContain('<wsse:Password>sekret-&lt;&amp;&quot;token&gt;</wsse:Password>');
    expect(record!.xml).toMatch(/TimeStamp="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"/);
    expect(server.requests[1]!.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(server.requests[1]!.headers.soapaction).toBe('http://www.opentravel.org/OTA/2003/05/ReadRQ');
  });

  it('writes {now} and a cursor in the format asked for, and leaves out a parameter whose value is null', async () => {
    const server = await serve(() => ({ body: { items: [1] } }));
    const cfg = config({
      request: {
        path: '/b',
        query: {
          secs: '{now:epoch_seconds}',
          day: '{now:date}',
          local: '{now:yyyy-MM-dd HH:mm}',
          since: '{cursor}',
          absent: '{page_cursor}',
        },
      },
      pagination: { type: 'cursor', next_path: '$.next' },
      incremental: {
        cursor_path: '$.m',
        cursor_format: 'datetime',
        pattern: 'yyyy-MM-dd HH:mm:ss',
        timezone: 'America/New_York',
        initial: '2031-01-01 00:00:00',
      },
    });
    const now = Date.parse('2031-03-10T12:30:00Z');
    await collect(plan(cfg, server.url, { now: () => now }));
    const query = Object.fromEntries(server.requests[0]!.url.searchParams);
    expect(query).toEqual({
      secs: String(now / 1000),
      day: '2031-03-10',
      local: '2031-03-10 08:30',
      since: '2031-01-01 00:00:00',
    });
  });
});

describe('answers: empty pages, failures said with HTTP 200, XML', () => {
  it('a 204 and an empty body are empty pages, never "not JSON" nor a credentials problem', async () => {
    const server = await serve((request) => {
      const page = Number(request.url.searchParams.get('pageNumber'));
      if (request.url.pathname === '/none') return { status: 204 };
      return page === 1 ? { body: { items: [{ n: 1 }] } } : page === 2 ? { status: 200 } : { status: 204 };
    });
    const paged = config({ pagination: { type: 'page_number', param: 'pageNumber' } });
    expect(records(await collect(plan(paged, server.url)))).toEqual([{ n: 1 }]);
    expect(server.requests.map((r) => r.url.searchParams.get('pageNumber'))).toEqual(['1', '2']);
    expect(records(await collect(plan(config({ request: { path: '/none' } }), server.url)))).toEqual([]);
  });

  it("an HTTP 200 that says success: false fails with the PMS's own message, secrets redacted", async () => {
    const server = await serve(() => ({
      body: { success: false, message: `Invalid key ${SECRET} for property`, data: [] },
    }));
    const cfg = config({
      records: '$.data[*]',
      request: { path: '/api/v1.2/getReservations', query: { key: '{secret.token}' } },
      response: { failure: [{ path: '$.success', equals: false, message_path: '$.message' }] },
    });
    const error = await failure(plan(cfg, server.url));
    expect(error.message).toMatch(
      /answered 200, but the PMS reported a failure: Invalid key \[redacted\] for property$/,
    );
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain(encodeURIComponent(SECRET));
  });

  it('a SOAP fault fails with its faultstring, with HTTP 200 or with HTTP 500', async () => {
    const fault = (code: string) =>
      '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Header/>' +
      `<SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:${code}</faultcode>` +
      '<faultstring xml:lang="en">Unable to process message. Payload too large</faultstring>' +
      '</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>';
    const server = await serve((request) => ({
      status: request.url.pathname === '/500' ? 500 : 200,
      body: fault('Server'),
    }));
    const soap = (path: string) =>
      config({
        request: { method: 'POST', path, body: { xml: '<x/>' } },
        records: '$..HotelReservation[*]',
        response: {
          format: 'xml',
          failure: [
            {
              path: '$.Envelope.Body.Fault',
              exists: true,
              message_path: '$.Envelope.Body.Fault.faultstring',
            },
          ],
        },
        retry: { max_attempts: 1 },
      });
    expect((await failure(plan(soap('/200'), server.url))).message).toMatch(
      /answered 200, but the PMS reported a failure: Unable to process message\. Payload too large$/,
    );
    expect((await failure(plan(soap('/500'), server.url))).message).toMatch(
      /answered HTTP 500: Unable to process message\. Payload too large$/,
    );
  });

  it('reads XML records and their attributes through JSONPath, filters included', async () => {
    const xml = `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>
      <OTA_ResRetrieveRS xmlns="http://www.opentravel.org/OTA/2003/05"><Success/><ReservationsList>
        <HotelReservation ResStatus="Book"><UniqueID Type="14" ID="R-1"/></HotelReservation>
        <HotelReservation ResStatus="Test"><UniqueID Type="14" ID="R-T"/></HotelReservation>
      </ReservationsList></OTA_ResRetrieveRS></SOAP-ENV:Body></SOAP-ENV:Envelope>`;
    const empty =
      '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>' +
      '<OTA_ResRetrieveRS xmlns="http://www.opentravel.org/OTA/2003/05"><Success/></OTA_ResRetrieveRS></SOAP-ENV:Body></SOAP-ENV:Envelope>';
    const server = await serve((request) => ({ body: request.url.pathname === '/empty' ? empty : xml }));
    const cfg = (path: string) =>
      config({
        request: { method: 'POST', path, body: { xml: '<x/>' } },
        records: "$..ReservationsList.HotelReservation[?(@['@ResStatus'] != 'Test')]",
        response: { format: 'xml', xml: { array_elements: ['HotelReservation'] }, missing_records: 'empty' },
      });
    const [one] = records(await collect(plan(cfg('/list'), server.url))) as Array<Record<string, any>>;
    expect(one).toEqual({ '@ResStatus': 'Book', UniqueID: { '@Type': '14', '@ID': 'R-1' } });
    expect(server.requests[0]!.headers.accept).toBe('text/xml, application/xml');
    expect(records(await collect(plan(cfg('/empty'), server.url)))).toEqual([]);
  });

  it('refuses an XML bomb, and a 50 MB XML page fails cleanly at the size cap without being read', async () => {
    const big = `<r>${'<i>x</i>'.repeat(6_500_000)}</r>`; // ~52 MB
    const server = await serve((request) =>
      request.url.pathname === '/bomb'
        ? {
            body: '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><r>&b;</r>',
          }
        : { body: big },
    );
    const cfg = (path: string) =>
      config({ request: { path }, records: '$.r.i[*]', response: { format: 'xml' } });
    expect((await failure(plan(cfg('/bomb'), server.url))).message).toMatch(
      /answered 200 with an answer that has a document type declaration/,
    );
    const error = await failure(plan(cfg('/big'), server.url));
    expect(error.message).toMatch(/answered more than 16777216 bytes: use smaller pages/);
  });
});

describe('paging beyond version 1', () => {
  it('page_number stops at the total the answer gives, without asking for an empty page', async () => {
    const all = Array.from({ length: 5 }, (_, i) => ({ n: i }));
    const server = await serve((request) => {
      const page = Number(request.url.searchParams.get('pageNumber'));
      return { body: { count: all.length, bookings: all.slice((page - 1) * 2, page * 2) } };
    });
    const cfg = config({
      request: { path: '/booking/v1/bookings', query: { pageSize: '2' } },
      records: '$.bookings[*]',
      pagination: { type: 'page_number', param: 'pageNumber', total_path: '$.count' },
    });
    expect(records(await collect(plan(cfg, server.url)))).toEqual(all);
    expect(server.requests).toHaveLength(3);
  });

  it('page_number stops at a page count, and at more: false', async () => {
    const server = await serve((request) => {
      const page = Number(request.url.searchParams.get('p'));
      return { body: { pages: 2, more: page < 3, items: [{ page }] } };
    });
    const byPages = config({ pagination: { type: 'page_number', param: 'p', pages_path: '$.pages' } });
    expect(records(await collect(plan(byPages, server.url)))).toEqual([{ page: 1 }, { page: 2 }]);
    const byMore = config({ pagination: { type: 'page_number', param: 'p', more_path: '$.more' } });
    expect(records(await collect(plan(byMore, server.url)))).toEqual([{ page: 1 }, { page: 2 }, { page: 3 }]);
  });

  it('follows a next URL in the body (@odata.nextLink), on the same origin only', async () => {
    const other = await serve(() => ({ body: { value: [{ stolen: true }] } }));
    const server = await serve((request) => {
      const page = Number(request.url.searchParams.get('page') ?? 1);
      if (request.url.pathname === '/leak')
        return { body: { value: [1], '@odata.nextLink': `${other.url}/x?page=2` } };
      return {
        body: { value: [{ page }], '@odata.nextLink': page < 3 ? `/b?page=${page + 1}` : undefined },
      };
    });
    const cfg = (path: string) =>
      config({
        request: { path, headers: { Authorization: 'Bearer {secret.token}' } },
        records: '$.value[*]',
        pagination: { type: 'next_url', next_path: "$['@odata.nextLink']" },
      });
    expect(records(await collect(plan(cfg('/b'), server.url)))).toEqual([
      { page: 1 },
      { page: 2 },
      { page: 3 },
    ]);
    expect(server.requests.map((r) => `${r.url.pathname}${r.url.search}`)).toEqual([
      '/b',
      '/b?page=2',
      '/b?page=3',
    ]);
    const error = await failure(plan(cfg('/leak'), server.url));
    expect(error.message).toMatch(/next link points to another origin/);
    expect(other.requests).toHaveLength(0);
  });
});

describe('windows: from the cursor to now in spans the PMS accepts', () => {
  it('splits a window longer than the PMS allows, and marks the end of each span as a checkpoint', async () => {
    const DAY = 86_400_000;
    const now = Date.parse('2031-06-01T00:00:00.000Z');
    const server = await serve((request) => {
      const body = JSON.parse(request.body);
      const { StartUtc, EndUtc } = body.UpdatedUtc;
      // Mews refuses time filters longer than 3 months.
      if (Date.parse(EndUtc) - Date.parse(StartUtc) > 92 * DAY)
        return { status: 400, body: { Message: 'too long' } };
      return { body: { Reservations: [{ Id: StartUtc }], Cursor: null } };
    });
    const cfg = config({
      request: {
        method: 'POST',
        path: '/reservations/getAll',
        body: {
          json: {
            UpdatedUtc: { StartUtc: '{window.start}', EndUtc: '{window.end}' },
            Limitation: { Count: 100 },
          },
        },
      },
      records: '$.Reservations[*]',
      incremental: { cursor_format: 'iso8601', initial: '2030-11-01T00:00:00Z', window: { max_days: 90 } },
    });
    const pages = await collect(plan(cfg, server.url, { now: () => now }));
    const spans = server.requests.map((r) => JSON.parse(r.body).UpdatedUtc);
    expect(spans).toEqual([
      { StartUtc: '2030-11-01T00:00:00.000Z', EndUtc: '2031-01-30T00:00:00.000Z' },
      { StartUtc: '2031-01-30T00:00:00.000Z', EndUtc: '2031-04-30T00:00:00.000Z' },
      { StartUtc: '2031-04-30T00:00:00.000Z', EndUtc: '2031-06-01T00:00:00.000Z' },
    ]);
    expect(pages.map((p) => p.checkpoint)).toEqual(spans.map((s) => s.EndUtc));
    // From a stored cursor, the first span starts there; a cursor at now fetches nothing.
    server.requests.length = 0;
    await collect(plan(cfg, server.url, { now: () => now, cursor: '2031-05-20T00:00:00.000Z' }));
    expect(server.requests.map((r) => JSON.parse(r.body).UpdatedUtc.StartUtc)).toEqual([
      '2031-05-20T00:00:00.000Z',
    ]);
    expect(
      await collect(plan(cfg, server.url, { now: () => now, cursor: '2031-06-01T00:00:00.000Z' })),
    ).toEqual([]);
  });

  it('a span without records still yields its checkpoint, in epoch seconds for an epoch cursor', async () => {
    const server = await serve(() => ({ body: { items: [] } }));
    const cfg = config({
      request: { path: '/b', query: { from: '{window.start}', to: '{window.end}' } },
      incremental: { cursor_format: 'epoch_seconds', initial: '1000000000', window: { max_days: 1 } },
    });
    const pages = await collect(plan(cfg, server.url, { now: () => 1_000_100_000_000 }));
    expect(pages.map((p) => [p.records.length, p.checkpoint])).toEqual([
      [0, '1000086400'],
      [0, '1000100000'],
    ]);
    // Paging that stops at an empty page without yielding it: the span's checkpoint comes alone.
    const paged = config({ ...cfg.source, pagination: { type: 'page_number', param: 'p' } });
    const marks = await collect(plan(paged, server.url, { now: () => 1_000_100_000_000 }));
    expect(marks).toEqual([
      { records: [], url: '', attempts: 0, checkpoint: '1000086400', marker: true },
      { records: [], url: '', attempts: 0, checkpoint: '1000100000', marker: true },
    ]);
    expect(server.requests.slice(0, 2).map((r) => r.url.search)).toEqual([
      '?from=1000000000&to=1000086400',
      '?from=1000086400&to=1000100000',
    ]);
  });
});

describe('auth: Basic, OAuth2 client credentials, a login call', () => {
  it('sends HTTP Basic credentials; a header of the config replaces it, whatever its spelling', async () => {
    const server = await serve(() => ({ body: { items: [1] } }));
    const cfg = config({ auth: { type: 'basic', username: '{secret.user}', password: '{secret.token}' } });
    await collect(plan(cfg, server.url));
    expect(server.requests[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from(`api-user:${SECRET}`).toString('base64')}`,
    );
    const own = config({
      request: { path: '/b', headers: { AUTHORIZATION: 'Token {secret.user}' } },
      auth: { type: 'basic', username: '{secret.user}', password: '{secret.token}' },
    });
    await collect(plan(own, server.url));
    expect(server.requests[1]!.headers.authorization).toBe('Token api-user');
  });

  /** An identity server on its own origin, and an API that takes its tokens until it revokes one. */
  async function oauthPair(options: { revokeAfter?: number; expiresIn?: number; refuseAll?: boolean } = {}) {
    let issued = 0;
    const valid = new Map<string, number>();
    const identity = await serve((request) => {
      const form = new URLSearchParams(request.body);
      const expected = `Basic ${Buffer.from('client-1:client-secret-1').toString('base64')}`;
      if (request.headers.authorization !== expected || form.get('grant_type') !== 'client_credentials')
        return { status: 401, body: { error: 'invalid_client', error_description: 'Unknown client' } };
      issued += 1;
      const token = `access-token-${issued}-${'x'.repeat(20)}`;
      valid.set(token, 0);
      return {
        body: {
          access_token: token,
          token_type: 'Bearer',
          expires_in: options.expiresIn ?? 3600,
          scope: form.get('scope'),
        },
      };
    });
    const api = await serve((request) => {
      const token = String(request.headers.authorization ?? '').replace(/^Bearer /, '');
      const uses = valid.get(token);
      if (uses === undefined || options.refuseAll) return { status: 401 };
      valid.set(token, uses + 1);
      // The first token is revoked mid-run: the PMS answers 401 for it from then on.
      if (
        options.revokeAfter !== undefined &&
        token.startsWith('access-token-1-') &&
        uses + 1 > options.revokeAfter
      ) {
        valid.delete(token);
        return { status: 401 };
      }
      const page = Number(request.url.searchParams.get('pageNumber'));
      return { body: { items: page <= 4 ? [{ page, token }] : [] } };
    });
    const cfg = config({
      auth: {
        type: 'oauth2_client_credentials',
        token_url: `${identity.url}/connect/token`,
        client_id: '{secret.client_id}',
        client_secret: '{secret.client_secret}',
        scope: 'reservations.read',
      },
      pagination: { type: 'page_number', param: 'pageNumber' },
    });
    return { identity, api, cfg, issued: () => issued };
  }

  it('OAuth2: gets a token from the declared token URL, caches it per connection, and never shows it', async () => {
    const { identity, api, cfg, issued } = await oauthPair();
    const p = plan(cfg, api.url, {
      secretOrigins: [identity.origin],
      tokenCacheKey: `conn-${Math.random()}`,
    });
    expect(records(await collect(p))).toHaveLength(4);
    expect(records(await collect(p))).toHaveLength(4);
    // One token for both runs: it is cached until it expires.
    expect(issued()).toBe(1);
    expect(new URLSearchParams(identity.requests[0]!.body).get('scope')).toBe('reservations.read');
    expect(
      api.requests.every((r) => r.headers.authorization === `Bearer access-token-1-${'x'.repeat(20)}`),
    ).toBe(true);
  });

  it('OAuth2: a token revoked in the middle of a run gets one refresh on the 401, and the run goes on', async () => {
    const { identity, api, cfg, issued } = await oauthPair({ revokeAfter: 2 });
    const redact = redactor({});
    const pages = await collect(plan(cfg, api.url, { secretOrigins: [identity.origin], redact }));
    expect(pages.map((p) => (p.records[0] as { page: number }).page)).toEqual([1, 2, 3, 4]);
    expect(issued()).toBe(2);
    // Pages 1–2 with the first token, page 3 refused then sent again with the second.
    expect(api.requests.map((r) => r.url.searchParams.get('pageNumber'))).toEqual([
      '1',
      '2',
      '3',
      '3',
      '4',
      '5',
    ]);
    // The tokens met are redacted from anything the run reports.
    expect(redact(`x access-token-2-${'x'.repeat(20)} y`)).toBe('x [redacted] y');
  });

  it('OAuth2: a second 401 in a row fails the run, naming the credentials, never the token', async () => {
    const { identity, api, cfg } = await oauthPair({ refuseAll: true });
    const error = await failure(plan(cfg, api.url, { secretOrigins: [identity.origin] }));
    expect(error.message).toMatch(/answered HTTP 401 \(check the connection's credentials\)/);
    expect(identity.requests).toHaveLength(2);
    expect(error.message).not.toMatch(/access-token/);
  });

  it("OAuth2: a refused client fails with the server's error_description", async () => {
    const { identity, api, cfg } = await oauthPair();
    const p = plan(cfg, api.url, { secretOrigins: [identity.origin] });
    p.secrets = { ...p.secrets, client_secret: 'wrong-secret' };
    const error = await failure(p);
    expect(error.message).toMatch(/connect\/token answered HTTP 401: Unknown client/);
    expect(api.requests).toHaveLength(0);
  });

  it('OAuth2: a token URL on an origin the secrets were not given for gets nothing', async () => {
    const { identity, api, cfg } = await oauthPair();
    const error = await failure(plan(cfg, api.url));
    expect(error.message).toMatch(
      /sends credentials to http:\/\/127\.0\.0\.1:\d+, an origin the connection's secrets were not given for/,
    );
    expect(identity.requests).toHaveLength(0);
    expect(api.requests).toHaveLength(0);
  });

  it('OAuth2: a token endpoint that hangs fails the run after its timeout, with a clear error', async () => {
    const identity = await serve(() => ({ hang: true }));
    const api = await serve(() => ({ body: { items: [] } }));
    const cfg = config({
      auth: {
        type: 'oauth2_client_credentials',
        token_url: `${identity.url}/token`,
        client_id: '{secret.client_id}',
        client_secret: '{secret.client_secret}',
        timeout_ms: 300,
      },
      retry: { max_attempts: 2, backoff_ms: 10 },
    });
    const started = performance.now();
    const error = await failure(plan(cfg, api.url, { secretOrigins: [identity.origin] }));
    expect(error.message).toMatch(/token: no HTTP answer .* \(after 2 attempts\)$/);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(api.requests).toHaveLength(0);
  });

  it('login: a session token read by JSONPath, sent as {auth.token}, fetched again once it expires', async () => {
    let sessions = 0;
    const server = await serve((request) => {
      if (request.url.pathname === '/session') {
        const body = JSON.parse(request.body);
        if (body.user !== 'api-user' || body.password !== SECRET) return { status: 403 };
        sessions += 1;
        return { body: { result: { sessionId: `session-${sessions}-abcdef` }, expiresIn: 1 } };
      }
      const session = request.headers['x-session'];
      if (session !== `session-${sessions}-abcdef`) return { status: 401 };
      const page = Number(request.url.searchParams.get('page'));
      return { body: { items: page <= 3 ? [page] : [] } };
    });
    const cfg = config({
      request: { path: '/b', headers: { 'X-Session': '{auth.token}' } },
      auth: {
        type: 'login',
        request: {
          method: 'POST',
          path: '/session',
          body: { json: { user: '{secret.user}', password: '{secret.token}' } },
        },
        token_path: '$.result.sessionId',
        expires_in_path: '$.expiresIn',
      },
      pagination: { type: 'page_number', param: 'page' },
    });
    expect(records(await collect(plan(cfg, server.url)))).toEqual([1, 2, 3]);
    // A one-second session is renewed before every request rather than used as it expires.
    expect(sessions).toBe(4);
  });
});

describe('queues: read, commit, acknowledge, read again', () => {
  it('reads the next page only after the last one was settled, and acknowledges per record or per page', async () => {
    const queue = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, status: 'new' }));
    const acked: string[] = [];
    const server = await serve((request) => {
      if (request.url.pathname.endsWith('/ack')) {
        const id = request.url.pathname.split('/')[4]!;
        acked.push(id);
        const at = queue.findIndex((r) => r.id === id);
        if (at >= 0) queue.splice(at, 1);
        return { body: { meta: { message: 'ok' } } };
      }
      return { body: { data: queue.slice(0, 2).map((r) => ({ id: r.id, attributes: r })) } };
    });
    const cfg = config({
      request: { path: '/api/v1/booking_revisions/feed', headers: { 'user-api-key': '{secret.token}' } },
      records: '$.data[*]',
      pagination: { type: 'queue' },
      ack: {
        per: 'record',
        values: { id: '$.id' },
        request: { method: 'POST', path: '/api/v1/booking_revisions/{ack.id}/ack' },
      },
    });
    const connector = createConnector(plan(cfg, server.url));
    const seen: string[] = [];
    for await (const page of connector.pages()) {
      seen.push(...page.records.map((r) => (r as { id: string }).id));
      // Nothing is read again before this page is settled.
      expect(server.requests.filter((r) => r.url.pathname.endsWith('/feed'))).toHaveLength(
        Math.ceil(seen.length / 2),
      );
      for (const ack of page.acks!) await connector.acknowledge(ack);
      page.settle!('continue');
    }
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(acked).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(queue).toEqual([]);
  });

  it('per page, renders one XML fragment per record into {ack.each} (OTA_NotifReportRQ)', async () => {
    let body = '';
    const server = await serve((request) => {
      if (request.url.pathname === '/notif') {
        body = request.body;
        return { body: '<OTA_NotifReportRS><Success/></OTA_NotifReportRS>' };
      }
      return {
        body:
          '<OTA_ResRetrieveRS><ReservationsList><HotelReservation ResStatus="Book"><UniqueID ID="R&amp;1"/></HotelReservation>' +
          '<HotelReservation ResStatus="Cancel"><UniqueID ID="R2"/></HotelReservation></ReservationsList></OTA_ResRetrieveRS>',
      };
    });
    const cfg = config({
      request: { method: 'POST', path: '/read', body: { xml: '<OTA_ReadRQ/>' } },
      records: '$..HotelReservation[*]',
      response: {
        format: 'xml',
        xml: { array_elements: ['HotelReservation'] },
        failure: [{ path: '$..Errors', exists: true }],
      },
      pagination: { type: 'queue' },
      ack: {
        per: 'page',
        values: { id: "$.UniqueID['@ID']", status: "$['@ResStatus']" },
        each: '<HotelReservation ResStatus="{ack.status}"><UniqueID Type="16" ID="{ack.id}"/></HotelReservation>',
        request: {
          method: 'POST',
          path: '/notif',
          body: {
            xml: '<OTA_NotifReportRQ><Success/><NotifDetails><HotelNotifReport><HotelReservations>{ack.each}</HotelReservations></HotelNotifReport></NotifDetails></OTA_NotifReportRQ>',
          },
        },
      },
    });
    const connector = createConnector(plan(cfg, server.url));
    const pages = connector.pages();
    const first = (await pages.next()).value as FetchedPage;
    expect(first.acks).toHaveLength(1);
    await connector.acknowledge(first.acks![0]!);
    expect(body).toBe(
      '<OTA_NotifReportRQ><Success/><NotifDetails><HotelNotifReport><HotelReservations>' +
        '<HotelReservation ResStatus="Book"><UniqueID Type="16" ID="R&amp;1"/></HotelReservation>' +
        '<HotelReservation ResStatus="Cancel"><UniqueID Type="16" ID="R2"/></HotelReservation>' +
        '</HotelReservations></HotelNotifReport></NotifDetails></OTA_NotifReportRQ>',
    );
    first.settle!('stop');
    expect((await pages.next()).done).toBe(true);
  });

  it('stops reading a queue that hands back what was acknowledged, with a warning', async () => {
    const server = await serve((request) =>
      request.url.pathname.endsWith('/ack') ? { body: {} } : { body: { data: [{ id: 'same' }] } },
    );
    const warnings: string[] = [];
    const cfg = config({
      records: '$.data[*]',
      pagination: { type: 'queue' },
      ack: { per: 'record', values: { id: '$.id' }, request: { method: 'POST', path: '/r/{ack.id}/ack' } },
    });
    const connector = createConnector(plan(cfg, server.url, { onWarning: (key) => warnings.push(key) }));
    let pages = 0;
    for await (const page of connector.pages()) {
      pages += 1;
      for (const ack of page.acks!) await connector.acknowledge(ack);
      page.settle!('continue');
    }
    expect(pages).toBe(2);
    expect(warnings).toEqual(['queue_not_drained']);
  });
});
