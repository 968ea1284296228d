import type { IncomingHttpHeaders } from 'node:http';
import { addDays } from '../../../app/dates.ts';
import type { CanonicalStatus } from '../config/config.types.ts';
import type { SimBooking } from './generator.ts';

/**
 * The dialects the simulator speaks, one per shipped config in pms-configs/. Each renders the
 * same generated bookings in its own shape, dates, codes, paging and authentication.
 */
export type DialectName = 'acme' | 'acme3' | 'flatline' | 'quickstay';
export const DIALECTS: DialectName[] = ['acme', 'acme3', 'flatline', 'quickstay'];

/** Which shipped config (pms_type, version) speaks each dialect. */
export const DIALECT_CONFIG: Record<DialectName, { pms_type: string; version: string; secret: string }> = {
  acme: { pms_type: 'acme', version: '2.1', secret: 'api_token' },
  acme3: { pms_type: 'acme', version: '3.0', secret: 'api_token' },
  flatline: { pms_type: 'flatline', version: '1.0', secret: 'api_key' },
  quickstay: { pms_type: 'quickstay', version: '3', secret: 'api_key' },
};

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

export interface BookingSource {
  /** Bookings of a hotel modified strictly after `sinceMs`, ordered by (modification time, ref). */
  since(hotel: string, sinceMs: number): SimBooking[];
}

interface Dialect {
  route: RegExp;
  hotel(match: RegExpExecArray, url: URL): string | null;
  credential(headers: IncomingHttpHeaders, url: URL): string | undefined;
  handle(url: URL, hotel: string, source: BookingSource, path: string): Reply;
}

const ACME_STATUS: Record<CanonicalStatus, string> = {
  confirmed: 'BOOKED',
  tentative: 'OPTION',
  checked_in: 'INHOUSE',
  checked_out: 'DEPARTED',
  cancelled: 'CANCELLED',
  no_show: 'NOSHOW',
};
const FLAT_STATUS: Record<CanonicalStatus, string> = {
  confirmed: 'Confirmed',
  tentative: 'Provisional',
  checked_in: 'CheckedIn',
  checked_out: 'CheckedOut',
  cancelled: 'Cancelled',
  no_show: 'NoShow',
};
const QS_STATUS: Record<CanonicalStatus, number> = {
  tentative: 1,
  confirmed: 2,
  checked_in: 3,
  checked_out: 4,
  cancelled: 8,
  no_show: 9,
};
const QS_CLASS = { STD: 1, DBL: 2, STE: 3 } as const;

/** The stay as a dialect should show it, broken on purpose for the bad kinds that touch dates. */
function stay(b: SimBooking): { checkIn: string; checkOut: string; impossibleCheckIn: boolean } {
  if (b.bad === 'business_rules')
    return { checkIn: b.checkIn, checkOut: addDays(b.checkIn, 45), impossibleCheckIn: false };
  return { checkIn: b.checkIn, checkOut: b.checkOut, impossibleCheckIn: b.bad === 'mapping' };
}
const email = (b: SimBooking) => (b.bad === 'field_rules' ? 'not-an-email' : b.email);
const iso = (ms: number) => new Date(ms).toISOString();
const dmy = (date: string) => `${date.slice(8, 10)}/${date.slice(5, 7)}/${date.slice(0, 4)}`;
const money = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

function renderAcme(b: SimBooking, priceKey: 'total' | 'gross'): Record<string, unknown> {
  const s = stay(b);
  const record: Record<string, unknown> = {
    id: b.ref,
    state: ACME_STATUS[b.status],
    arrival: s.impossibleCheckIn ? `${s.checkIn.slice(0, 4)}-02-30` : s.checkIn,
    departure: s.checkOut,
    guest: {
      first: b.first,
      last: b.last,
      contact: { email: b.index % 5 === 0 ? `  ${email(b).toUpperCase()} ` : email(b), phone: b.phone },
    },
    room: { category: b.roomType.toLowerCase(), no: Number(b.roomNumber) },
    pax: { adults: b.adults, children: b.children },
    price: { [priceKey]: money(b.amountCents), currency: b.currency },
    comment: b.notes,
    updated: iso(b.updatedMs),
  };
  if (b.bad === 'raw_schema') delete record.arrival;
  return record;
}

function renderFlat(b: SimBooking): Record<string, unknown> {
  const s = stay(b);
  const record: Record<string, unknown> = {
    RES_NO: `FL${b.ref}`,
    RES_STATUS: FLAT_STATUS[b.status],
    ARR_DATE: s.impossibleCheckIn ? `30/02/${s.checkIn.slice(0, 4)}` : dmy(s.checkIn),
    DEP_DATE: dmy(s.checkOut),
    FIRST_NAME: b.first,
    LAST_NAME: b.last,
    EMAIL: email(b),
    PHONE: b.phone ?? '',
    ROOM_TYPE: b.roomType,
    ROOM_NO: b.roomNumber,
    ADULTS: String(b.adults),
    CHILDREN: String(b.children),
    AMOUNT_CENTS: b.amountCents,
    CURRENCY: b.index % 3 === 0 ? b.currency.toLowerCase() : b.currency,
    MODIFIED: iso(b.updatedMs),
    REMARKS: b.notes ?? '',
  };
  if (b.bad === 'raw_schema') delete record.ARR_DATE;
  return record;
}

function renderQuickstay(b: SimBooking): Record<string, unknown> {
  const s = stay(b);
  const ymd = (date: string) => Number(date.replaceAll('-', ''));
  const stayBlock: Record<string, unknown> = {
    from: s.impossibleCheckIn ? Number(`${s.checkIn.slice(0, 4)}0230`) : ymd(s.checkIn),
    to: ymd(s.checkOut),
    unit: { cls: QS_CLASS[b.roomType], num: b.roomNumber },
  };
  if (b.bad === 'raw_schema') delete stayBlock.from;
  return {
    ref: b.ref,
    st: QS_STATUS[b.status],
    stay: stayBlock,
    guest: { name: `${b.last}, ${b.first}`, mail: email(b), tel: b.phone },
    occupancy: [b.adults, b.children],
    amount: b.amountCents / 100,
    cur: b.currency,
    ts: Math.floor(b.updatedMs / 1000),
    note: b.notes,
  };
}

function sinceIso(value: string | null): number | null {
  if (value === null) return 0;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

function badRequest(message: string): Reply {
  return { status: 400, body: { error: message } };
}

function intParam(url: URL, name: string, fallback: number, max: number): number | null {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? Math.min(n, max) : null;
}

/** Keyset token of the last booking on a page: (modification time, ref). */
const token = (b: SimBooking) => Buffer.from(`${b.updatedMs}:${b.ref}`).toString('base64url');
function afterToken(list: SimBooking[], raw: string | null): SimBooking[] | null {
  if (raw === null) return list;
  const [ms, ref] = Buffer.from(raw, 'base64url').toString().split(':').map(Number);
  if (!Number.isFinite(ms) || !Number.isFinite(ref)) return null;
  return list.filter((b) => b.updatedMs > ms! || (b.updatedMs === ms && b.ref > ref!));
}

const bearer = (headers: IncomingHttpHeaders) =>
  /^Bearer (.+)$/.exec(String(headers.authorization ?? ''))?.[1];

export const dialects: Record<DialectName, Dialect> = {
  acme: {
    route: /^\/v2\/hotels\/([\w-]{1,64})\/bookings$/,
    hotel: (m) => m[1]!,
    credential: bearer,
    handle(url, hotel, source) {
      const since = sinceIso(url.searchParams.get('modified_since'));
      const perPage = intParam(url, 'per_page', 100, 500);
      const page = intParam(url, 'page', 1, 1_000_000);
      if (since === null || !perPage || !page) return badRequest('bad modified_since, per_page or page');
      const all = source.since(hotel, since);
      const items = all.slice((page - 1) * perPage, page * perPage);
      return {
        status: 200,
        body: {
          data: items.map((b) => renderAcme(b, 'total')),
          meta: { page, per_page: perPage, total: all.length },
        },
      };
    },
  },
  acme3: {
    route: /^\/v3\/hotels\/([\w-]{1,64})\/bookings$/,
    hotel: (m) => m[1]!,
    credential: bearer,
    handle(url, hotel, source, path) {
      const since = sinceIso(url.searchParams.get('updated_after'));
      if (since === null) return badRequest('bad updated_after');
      const rest = afterToken(source.since(hotel, since), url.searchParams.get('page_token'));
      if (rest === null) return badRequest('bad page_token');
      const items = rest.slice(0, 200);
      const headers: Record<string, string> = {};
      if (rest.length > items.length) {
        const next = new URLSearchParams(url.searchParams);
        next.set('page_token', token(items[items.length - 1]!));
        headers.link = `<${path}?${next.toString()}>; rel="next"`;
      }
      return { status: 200, headers, body: { bookings: items.map((b) => renderAcme(b, 'gross')) } };
    },
  },
  flatline: {
    route: /^\/api\/reservations$/,
    hotel: (_m, url) => {
      const hotel = url.searchParams.get('hotel');
      return hotel && /^[\w-]{1,64}$/.test(hotel) ? hotel : null;
    },
    credential: (headers) => (typeof headers['x-api-key'] === 'string' ? headers['x-api-key'] : undefined),
    handle(url, hotel, source) {
      const since = sinceIso(url.searchParams.get('changed_after'));
      const offset = intParam(url, 'offset', 0, 100_000_000);
      const limit = intParam(url, 'limit', 100, 1000);
      if (since === null || offset === null || !limit)
        return badRequest('bad changed_after, offset or limit');
      return {
        status: 200,
        body: source
          .since(hotel, since)
          .slice(offset, offset + limit)
          .map(renderFlat),
      };
    },
  },
  quickstay: {
    route: /^\/api\/v3\/properties\/([\w-]{1,64})\/reservations$/,
    hotel: (m) => m[1]!,
    credential: (_headers, url) => url.searchParams.get('key') ?? undefined,
    handle(url, hotel, source) {
      const raw = url.searchParams.get('since') ?? '0';
      const limit = intParam(url, 'limit', 100, 500);
      if (!/^\d+$/.test(raw) || !limit) return badRequest('bad since or limit');
      const rest = afterToken(source.since(hotel, Number(raw) * 1000), url.searchParams.get('after'));
      if (rest === null) return badRequest('bad after');
      const items = rest.slice(0, limit);
      const next = rest.length > items.length ? token(items[items.length - 1]!) : null;
      return { status: 200, body: { results: items.map(renderQuickstay), paging: { next } } };
    },
  },
};

/** The dialect whose route matches a request path. */
export function routeOf(pathname: string, url: URL, enabled: DialectName[]) {
  for (const name of enabled) {
    const dialect = dialects[name];
    const match = dialect.route.exec(pathname);
    if (!match) continue;
    return { name, dialect, hotel: dialect.hotel(match, url) };
  }
  return undefined;
}
