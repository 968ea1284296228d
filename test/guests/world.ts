import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { call, type TestContext } from '../helpers/context.ts';

/** A guest's contact details as the booking API takes them. */
export interface GuestInput {
  first_name?: string;
  last_name?: string;
  full_name?: string;
  email?: string | null;
  phone?: string | null;
}

/** Books through the API (as the given user) and fails loudly when refused. */
export async function book(
  t: TestContext,
  token: string,
  world: { property: { id: string }; roomType: { id: string } },
  guest: GuestInput,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const res = await call(t.app, 'POST', '/api/reservations/create/', {
    token,
    headers,
    body: {
      property_id: world.property.id,
      check_in: '2031-03-10',
      check_out: '2031-03-12',
      guest,
      rooms: [{ room_type_id: world.roomType.id }],
      ...extra,
    },
  });
  if (res.status !== 201) throw new Error(`booking: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; confirmation_code: string; guest: { id: string } };
}

/** The profile a reservation's guest row is linked to. */
export async function profileOfReservation(t: TestContext, reservationId: string): Promise<string> {
  const row = await t.db
    .selectFrom('reservation as r')
    .innerJoin('guest as g', 'g.id', 'r.guest_id')
    .select('g.profile_id')
    .where('r.id', '=', reservationId)
    .executeTakeFirstOrThrow();
  return row.profile_id;
}

/** One booking in the shape of the shipped ACME 2.1 config (pms-configs/acme-2.1.json). */
export interface AcmeRecord {
  id: number | string;
  state: string;
  arrival: string;
  departure: string;
  guest?: { first?: string; last?: string; contact?: { email?: string; phone?: string } };
  room?: { category?: string; no?: number | string };
  pax?: { adults?: number; children?: number };
  price?: { total?: string; currency?: string };
  comment?: string;
  updated: string;
}

/**
 * A PMS speaking ACME 2.1 on 127.0.0.1 that serves whatever records the test gives it (the
 * simulator's bookings are generated, and a test of guests needs its own guest in them).
 */
export async function startAcmeStub(): Promise<{
  url: string;
  records: AcmeRecord[];
  close(): Promise<void>;
}> {
  const records: AcmeRecord[] = [];
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://stub.local');
    const page = Number(url.searchParams.get('page') ?? '1');
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ data: page === 1 ? records : [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    records,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Connects a property to the stub (its room type codes must exist) and returns a sync function. */
export async function connectAcme(
  t: TestContext,
  token: string,
  propertyId: string,
  stubUrl: string,
): Promise<() => Promise<{ created: number; updated: number; quarantined: number; status: string }>> {
  const res = await call(t.app, 'PUT', `/api/integrations/pms/connections/${propertyId}/`, {
    token,
    body: {
      pms_type: 'acme',
      version: '2.1',
      base_url: stubUrl,
      hotel_external_id: 'GUESTS',
      secrets: { api_token: 'stub-token' },
    },
  });
  if (res.status !== 201 && res.status !== 200) {
    throw new Error(`connection: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return async () => {
    const run = await call(t.app, 'POST', '/api/integrations/pms/sync/', {
      token,
      body: { property_id: propertyId, wait: true },
    });
    if (run.status !== 200) throw new Error(`sync: ${run.status} ${JSON.stringify(run.body)}`);
    return run.body;
  };
}
