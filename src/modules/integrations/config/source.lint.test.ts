import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateConfigDocument } from './config.validate.ts';

/**
 * Every construct of `source` in format version 2, both ways: a config that uses it as the
 * connector runs it is accepted (schema and lint), and each way of getting it wrong is refused at
 * its JSON pointer.
 */
const acme = () =>
  JSON.parse(
    readFileSync(new URL('../../../../pms-configs/acme-2.1.json', import.meta.url), 'utf8'),
  ) as Record<string, any>;
const withSource = (source: Record<string, unknown>) => {
  const doc = acme();
  doc.source = { records: '$.data[*]', ...source };
  return doc;
};
const problems = (doc: unknown) => validateConfigDocument(doc).map((p) => `${p.pointer}: ${p.message}`);
const pointers = (doc: unknown) => validateConfigDocument(doc).map((p) => p.pointer);

const MEWS = {
  request: {
    method: 'POST',
    path: '/api/connector/v1/reservations/getAll/2023-06-06',
    body: {
      json: {
        ClientToken: '{secret.client_token}',
        AccessToken: '{secret.access_token}',
        Client: 'pms 1.0',
        UpdatedUtc: { StartUtc: '{window.start}', EndUtc: '{window.end}' },
        Limitation: { Cursor: '{page_cursor}', Count: '{limit}' },
      },
    },
  },
  records: '$.Reservations[*]',
  response: { failure: [{ path: '$.Message', exists: true, message_path: '$.Message' }] },
  pagination: { type: 'cursor', next_path: '$.Cursor', limit: 1000 },
  incremental: { cursor_format: 'iso8601', initial: '2020-01-01T00:00:00Z', window: { max_days: 90 } },
};

const APALEO = {
  request: { path: '/booking/v1/bookings', query: { pageSize: '200', modifiedFrom: '{cursor}' } },
  auth: {
    type: 'oauth2_client_credentials',
    token_url: 'https://identity.apaleo.com/connect/token',
    client_id: '{secret.client_id}',
    client_secret: '{secret.client_secret}',
    scope: 'reservations.read',
  },
  records: '$.bookings[*]',
  pagination: { type: 'page_number', param: 'pageNumber', total_path: '$.count' },
  incremental: { cursor_path: '$.modified', cursor_format: 'iso8601', initial: '2020-01-01T00:00:00Z' },
};

const CLOUDBEDS = {
  request: {
    path: '/api/v1.2/getReservations',
    query: { propertyID: '{hotel.external_id}', modifiedFrom: '{cursor}' },
  },
  auth: { type: 'basic', username: '{secret.user}', password: '{secret.password}' },
  response: { failure: [{ path: '$.success', equals: false, message_path: '$.message' }] },
  records: '$.data[*]',
  pagination: { type: 'page_number', param: 'pageNumber', total_path: '$.total', limit: 100 },
  incremental: {
    cursor_path: '$.dateModified',
    cursor_format: 'datetime',
    pattern: 'yyyy-MM-dd HH:mm:ss',
    timezone: 'America/New_York',
    initial: '2020-01-01 00:00:00',
  },
};

const SITEMINDER = {
  request: {
    method: 'POST',
    path: '/pmsxchange/services',
    headers: { SOAPAction: 'http://www.opentravel.org/OTA/2003/05/ReadRQ' },
    body: {
      xml:
        '<soap:Envelope><soap:Header><wsse:Security><wsse:UsernameToken><wsse:Username>{secret.user}</wsse:Username>' +
        '<wsse:Password>{secret.password}</wsse:Password></wsse:UsernameToken></wsse:Security></soap:Header>' +
        '<soap:Body><OTA_ReadRQ TimeStamp="{now}"><HotelReadRequest HotelCode="{hotel.external_id}"/></OTA_ReadRQ></soap:Body></soap:Envelope>',
    },
  },
  response: {
    format: 'xml',
    xml: { array_elements: ['HotelReservation', 'RoomStay'] },
    failure: [
      { path: '$.Envelope.Body.Fault', exists: true, message_path: '$.Envelope.Body.Fault.faultstring' },
    ],
    missing_records: 'empty',
  },
  records: '$..ReservationsList.HotelReservation[*]',
  pagination: { type: 'queue' },
  ack: {
    per: 'page',
    values: { id: "$.UniqueID['@ID']", status: "$['@ResStatus']" },
    each: '<HotelReservation ResStatus="{ack.status}"><UniqueID Type="16" ID="{ack.id}"/></HotelReservation>',
    request: {
      method: 'POST',
      path: '/pmsxchange/services',
      body: {
        xml: '<soap:Envelope><OTA_NotifReportRQ TimeStamp="{now}"><Success/>{ack.each}</OTA_NotifReportRQ></soap:Envelope>',
      },
    },
  },
};

const CHANNEX = {
  request: {
    path: '/api/v1/booking_revisions/feed',
    query: { 'filter[property_id]': '{hotel.external_id}' },
    headers: { 'user-api-key': '{secret.api_key}' },
  },
  records: '$.data[*]',
  pagination: { type: 'queue' },
  ack: {
    per: 'record',
    values: { id: '$.id' },
    request: { method: 'POST', path: '/api/v1/booking_revisions/{ack.id}/ack' },
  },
};

describe('the lint of source (format version 2)', () => {
  it('accepts a config for each vendor shape the connector runs', () => {
    for (const source of [MEWS, APALEO, CLOUDBEDS, SITEMINDER, CHANNEX])
      expect(problems(withSource(source))).toEqual([]);
    // And a version 1 source, as it was.
    expect(problems(acme())).toEqual([]);
  });

  it('requests: methods, bodies and where placeholders may stand', () => {
    const form = {
      ...CHANNEX,
      pagination: undefined,
      ack: undefined,
      request: { method: 'PUT', path: '/x', body: { form: { a: '{hotel.external_id}' } } },
    };
    expect(problems(withSource(form))).toEqual([]);
    const get = structuredClone(MEWS);
    get.request.method = 'GET';
    expect(pointers(withSource(get))).toEqual(['/source/request/body']);
    const two = structuredClone(MEWS) as any;
    two.request.body.xml = '<x/>';
    expect(pointers(withSource(two))).toContain('/source/request/body');
    const keyed = structuredClone(MEWS) as any;
    keyed.request.body.json['{hotel.external_id}'] = 1;
    expect(problems(withSource(keyed))).toEqual([
      '/source/request/body/json/{hotel.external_id}: placeholders are filled in values, not in names',
    ]);
    const unknown = structuredClone(MEWS) as any;
    unknown.request.body.json.Extra = '{page}';
    expect(problems(withSource(unknown))).toEqual([
      '/source/request/body/json/Extra: unknown placeholder {page} ({page} needs a pagination type that provides it)',
    ]);
    const method = structuredClone(MEWS) as any;
    method.request.method = 'TRACE';
    expect(pointers(withSource(method))).toEqual(['/source/request/method']);
  });

  it('{now} and time placeholders take a format; other placeholders do not', () => {
    const ok = structuredClone(CLOUDBEDS) as any;
    ok.request.query.at = '{now:epoch_seconds}';
    ok.request.query.day = '{now:date}';
    ok.request.query.local = '{cursor:yyyy-MM-dd}';
    expect(problems(withSource(ok))).toEqual([]);
    const bad = structuredClone(CLOUDBEDS) as any;
    bad.request.query.at = '{now:nonsense}';
    bad.request.query.hotel = '{hotel.external_id:upper}';
    expect(pointers(withSource(bad)).sort()).toEqual([
      '/source/request/query/at',
      '/source/request/query/hotel',
    ]);
    const opaque = structuredClone(CLOUDBEDS) as any;
    opaque.incremental = { cursor_path: '$.token', cursor_format: 'opaque', initial: 'start' };
    opaque.request.query.modifiedFrom = '{cursor:epoch_seconds}';
    expect(pointers(withSource(opaque))).toEqual(['/source/request/query/modifiedFrom']);
  });

  it('auth: Basic, OAuth2 client credentials and a login call', () => {
    const login = {
      ...CLOUDBEDS,
      request: { ...CLOUDBEDS.request, headers: { 'X-Session': '{auth.token}' } },
      auth: {
        type: 'login',
        request: {
          method: 'POST',
          url: 'https://auth.pms.example/session',
          body: { json: { user: '{secret.user}' } },
        },
        token_path: '$.session.id',
        expires_in_path: '$.session.ttl',
      },
    };
    expect(problems(withSource(login))).toEqual([]);
    const relative = structuredClone(APALEO) as any;
    relative.auth.token_url = '/connect/token';
    expect(problems(withSource(relative))).toEqual([]);

    for (const [mutate, pointer] of [
      [
        (s: any) => (s.auth.token_url = 'https://{hotel.external_id}.apaleo.com/token'),
        '/source/auth/token_url',
      ],
      [
        (s: any) => (s.auth.token_url = 'https://user:pw@identity.apaleo.com/token'),
        '/source/auth/token_url',
      ],
      [(s: any) => (s.auth.token_url = 'https://identity.apaleo.com/token?x=1'), '/source/auth/token_url'],
      [(s: any) => (s.auth.token_url = 'ftp://identity.apaleo.com/token'), '/source/auth/token_url'],
      [(s: any) => (s.auth.token_url = '///evil.example/token'), '/source/auth/token_url'],
      [(s: any) => (s.auth.params = { grant_type: 'password' }), '/source/auth/params/grant_type'],
      [(s: any) => (s.auth.client_id = '{cursor}'), '/source/auth/client_id'],
      [(s: any) => (s.auth.type = 'oauth2_password'), '/source/auth/type'],
      [(s: any) => delete s.auth.client_secret, '/source/auth/client_secret'],
    ] as Array<[(s: any) => void, string]>) {
      const source = structuredClone(APALEO);
      mutate(source);
      expect(pointers(withSource(source)), pointer).toContain(pointer);
    }
    const noToken = structuredClone(CLOUDBEDS) as any;
    noToken.request.headers = { Authorization: 'Bearer {auth.token}' };
    expect(pointers(withSource(noToken))).toEqual(['/source/request/headers/Authorization']);
    const inLogin = structuredClone(login) as any;
    inLogin.auth.request.headers = { Authorization: '{auth.token}' };
    inLogin.auth.token_path = '$.session[?(@.x =~ 1)]';
    inLogin.auth.request.path = '/session';
    expect(pointers(withSource(inLogin)).sort()).toEqual(
      [
        '/source/auth/request',
        '/source/auth/request/headers/Authorization',
        '/source/auth/request/url',
        '/source/auth/token_path',
      ].sort(),
    );
  });

  it('responses: XML options, failure predicates, missing records', () => {
    const bad = structuredClone(SITEMINDER) as any;
    bad.response.format = 'json';
    bad.response.failure.push({ path: '$.x', equals: 1, exists: true });
    bad.response.failure.push({ path: '$.y[', message_path: '$[(1)]' });
    expect(pointers(withSource(bad)).sort()).toEqual(
      [
        '/source/response/xml',
        '/source/response/failure/1',
        '/source/response/failure/2/path',
        '/source/response/failure/2/message_path',
      ].sort(),
    );
    const size = structuredClone(SITEMINDER) as any;
    size.response.max_bytes = 128 * 1024 * 1024;
    expect(pointers(withSource(size))).toEqual(['/source/response/max_bytes']);
  });

  it('pagination: the page is sent somewhere; totals, next URLs and queues', () => {
    const noCarrier = structuredClone(MEWS) as any;
    noCarrier.request.body.json.Limitation = { Count: '{limit}' };
    expect(problems(withSource(noCarrier))).toEqual([
      '/source/pagination/param: is required, unless a {page_cursor} placeholder in the request sends the page',
    ]);
    const inBody = structuredClone(CLOUDBEDS) as any;
    delete inBody.pagination.param;
    expect(pointers(withSource(inBody))).toEqual(['/source/pagination/param']);
    inBody.request.query.pageNumber = '{page}';
    inBody.request.query.pageSize = '{limit}';
    expect(problems(withSource(inBody))).toEqual([]);
    const nextUrl = { ...APALEO, pagination: { type: 'next_url', next_path: "$['@odata.nextLink']" } };
    expect(problems(withSource(nextUrl))).toEqual([]);
    expect(pointers(withSource({ ...APALEO, pagination: { type: 'next_url' } }))).toEqual([
      '/source/pagination/next_path',
    ]);
    expect(
      pointers(
        withSource({ ...APALEO, pagination: { type: 'page_number', param: 'p', total_path: '$.count[' } }),
      ),
    ).toEqual(['/source/pagination/total_path']);
    expect(pointers(withSource({ ...CHANNEX, ack: undefined }))).toEqual(['/source/pagination']);
    expect(pointers(withSource({ ...APALEO, ack: CHANNEX.ack }))).toEqual(['/source/ack']);
    expect(pointers(withSource({ ...CHANNEX, pagination: { type: 'queue', param: 'x' } }))).toEqual([
      '/source/pagination/param',
    ]);
  });

  it('acknowledgements: values, {ack.NAME}, {ack.each}', () => {
    const jsonPage = structuredClone(CHANNEX) as any;
    jsonPage.ack = {
      per: 'page',
      values: { id: '$.id' },
      each: { id: '{ack.id}' },
      request: { method: 'POST', path: '/ack', body: { json: { revisions: '{ack.each}', ids: '{ack.id}' } } },
    };
    expect(problems(withSource(jsonPage))).toEqual([]);
    for (const [mutate, pointer] of [
      [(s: any) => (s.ack.request.path = '/r/{ack.missing}/ack'), '/source/ack/request/path'],
      [(s: any) => (s.ack.values.id = '$.id[(1)]'), '/source/ack/values/id'],
      [(s: any) => (s.ack.each = '<x/>'), '/source/ack/each'],
      [(s: any) => (s.ack.request.path = '/r/{ack.each}/ack'), '/source/ack/request/path'],
      [(s: any) => (s.ack.per = 'batch'), '/source/ack/per'],
      [(s: any) => (s.ack.values = {}), '/source/ack/values'],
    ] as Array<[(s: any) => void, string]>) {
      const source = structuredClone(CHANNEX);
      mutate(source);
      expect(pointers(withSource(source)), pointer).toContain(pointer);
    }
    const notPlaced = structuredClone(SITEMINDER) as any;
    notPlaced.ack.request.body.xml = '<OTA_NotifReportRQ/>';
    expect(pointers(withSource(notPlaced))).toEqual(['/source/ack/request']);
    const xmlEach = structuredClone(SITEMINDER) as any;
    xmlEach.ack.each = { not: 'text' };
    expect(pointers(withSource(xmlEach))).toEqual(['/source/ack/each']);
  });

  it('cursors in every format the runtime reads, windows only over time cursors', () => {
    for (const incremental of [
      {
        cursor_path: '$.m',
        cursor_format: 'iso8601',
        initial: '2020-01-01T00:00:00',
        timezone: 'Europe/Paris',
      },
      { cursor_path: '$.m', cursor_format: 'epoch_millis', initial: '0' },
      { cursor_path: '$.m', cursor_format: 'opaque', initial: 'first' },
      { cursor_path: '$.next_sync', cursor_format: 'opaque', initial: '*', cursor_source: 'response' },
      { cursor_format: 'epoch_seconds', initial: '0', window: { max_days: 7 } },
    ]) {
      const source = structuredClone(CLOUDBEDS) as any;
      source.incremental = incremental;
      source.request.query.from = incremental.window ? '{window.start}' : '{cursor}';
      expect(problems(withSource(source)), JSON.stringify(incremental)).toEqual([]);
    }
    for (const [incremental, expected] of [
      [
        { cursor_path: '$.m', cursor_format: 'datetime', initial: '2020-01-01 00:00:00' },
        ['/source/incremental/pattern'],
      ],
      [
        { cursor_path: '$.m', cursor_format: 'datetime', pattern: 'HH:mm', initial: '10:00' },
        ['/source/incremental/pattern'],
      ],
      [
        {
          cursor_path: '$.m',
          cursor_format: 'datetime',
          pattern: 'yyyy-MM-dd HH:mm:ss',
          initial: '2020-13-01 00:00:00',
        },
        ['/source/incremental/initial'],
      ],
      [
        { cursor_path: '$.m', cursor_format: 'iso8601', initial: 'x', timezone: 'Mars/Olympus' },
        ['/source/incremental/initial', '/source/incremental/timezone'],
      ],
      [
        { cursor_path: '$.m', cursor_format: 'epoch_seconds', initial: '0', timezone: 'UTC' },
        ['/source/incremental/timezone'],
      ],
      [
        { cursor_path: '$.m', cursor_format: 'opaque', initial: 'x', pattern: 'yyyy' },
        ['/source/incremental/pattern'],
      ],
      [{ cursor_format: 'iso8601', initial: '2020-01-01T00:00:00Z' }, ['/source/incremental/cursor_path']],
      [
        { cursor_path: '$.m', cursor_format: 'opaque', initial: 'x', window: { max_days: 3 } },
        ['/source/incremental/cursor_path', '/source/incremental/window'],
      ],
      [
        { cursor_format: 'iso8601', initial: '2020-01-01T00:00:00Z', window: { max_days: 0 } },
        ['/source/incremental/window/max_days'],
      ],
      [{ cursor_path: '$.m', cursor_format: 'rfc2822', initial: 'x' }, ['/source/incremental/cursor_format']],
    ] as Array<[Record<string, unknown>, string[]]>) {
      const source = structuredClone(CLOUDBEDS) as any;
      source.incremental = incremental;
      source.request.query.from = '{window.start}';
      delete source.request.query.modifiedFrom;
      if (!incremental.window) source.request.query.from = '{cursor}';
      expect(pointers(withSource(source)).sort(), JSON.stringify(incremental)).toEqual(expected.sort());
    }
    const unused = structuredClone(MEWS) as any;
    unused.request.body.json.UpdatedUtc = null;
    expect(pointers(withSource(unused))).toEqual(['/source/incremental/window']);
    const queued = structuredClone(CHANNEX) as any;
    queued.incremental = {
      cursor_format: 'iso8601',
      initial: '2020-01-01T00:00:00Z',
      window: { max_days: 3 },
    };
    queued.request.query.from = '{window.start}';
    expect(pointers(withSource(queued))).toEqual(['/source/incremental/window']);
  });
});
