import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdminBuild } from '../../src/modules/web/web.build.ts';
import { call, createTestContext, LOOPBACK_EGRESS, type TestContext } from '../helpers/context.ts';
import { createUser, login } from '../helpers/factories.ts';
import { browserUnavailable, cspViolations, launchBrowser, newPage, screenshot, signIn } from './browser.ts';
import { type SeededHotel, seedHotel } from './seed.ts';

const unavailable = browserUnavailable();
if (unavailable) console.log(`skipping the value maps browser test: ${unavailable}`);

/** A PMS whose room type ids differ per hotel: a config (format v2) maps them through the connection. */
const CONFIG = {
  pms_type: 'mapsweb',
  version: '1',
  source: { request: { path: '/bookings', headers: { 'x-token': '{secret.token}' } }, records: '$.data[*]' },
  field_mappings: {
    external_id: { path: '$.id' },
    status: { const: 'confirmed' },
    check_in: { path: '$.from', transform: 'parse_date' },
    check_out: { path: '$.to', transform: 'parse_date' },
    'guest.full_name': { path: '$.guest' },
  },
  rooms: {
    mode: 'nested',
    path: '$.rooms[*]',
    field_mappings: {
      external_id: { path: '$.id' },
      room_type_code: { path: '$.type', transform: { name: 'value_map', map: 'room_types' } },
    },
  },
};

describe.skipIf(unavailable !== null)('value maps of a PMS connection in the admin', () => {
  let t: TestContext;
  let browser: Browser;
  let baseUrl: string;
  let admin: { email: string; password: string; token: string };
  let hotel: SeededHotel;
  let pms: Server;

  beforeAll(async () => {
    await ensureAdminBuild({ rebuildIfStale: true });
    t = await createTestContext({ env: LOOPBACK_EGRESS });
    baseUrl = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const user = await createUser(t.db, { role: 'SUPER_ADMIN' });
    admin = { ...user, token: await login(t.app, user.email) };
    hotel = await seedHotel(t.app, admin.token, { code: 'MAP', name: 'Hotel Mapping' });
    pms = createServer((_req, res) => {
      const data = [
        {
          id: 'B1',
          from: '2031-09-01',
          to: '2031-09-03',
          guest: 'Ada Lovelace',
          rooms: [
            { id: 'x1', type: 'cat-7' },
            { id: 'x2', type: 'cat-9' },
          ],
        },
      ];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
    });
    await new Promise<void>((resolve) => pms.listen(0, '127.0.0.1', resolve));
    const upload = await call(t.app, 'POST', '/api/integrations/pms/configs/', {
      token: admin.token,
      body: CONFIG,
    });
    expect(upload.status).toBe(201);
    const put = await call(t.app, 'PUT', `/api/integrations/pms/connections/${hotel.propertyId}/`, {
      token: admin.token,
      body: {
        pms_type: 'mapsweb',
        version: '1',
        base_url: `http://127.0.0.1:${(pms.address() as AddressInfo).port}`,
        hotel_external_id: 'MAP',
        secrets: { token: 'browser-token' },
        value_maps: { room_types: { 'cat-7': 'DBL' } },
      },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => pms?.close(resolve));
    await t?.close();
  });

  afterEach(() => {
    expect(cspViolations.splice(0)).toEqual([]);
  });

  it('shows the maps the config reads, refuses a bad edit with the reason, saves a good one and the quarantined booking replays', async () => {
    const run = await call(t.app, 'POST', '/api/integrations/pms/sync/', {
      token: admin.token,
      body: { property_id: hotel.propertyId, wait: true },
    });
    expect(run.body).toMatchObject({ status: 'partial', fetched: 1, quarantined: 1 });

    const { context, page } = await newPage(browser);
    try {
      await signIn(page, baseUrl, admin.email, admin.password);
      await page.getByLabel('Property').selectOption(hotel.propertyId);
      await page.getByRole('link', { name: 'Integrations' }).click();
      const panel = page.locator('form', { has: page.getByRole('heading', { name: 'Value maps' }) });
      await panel.getByText('(read by the PMS config)').waitFor();
      expect(await panel.getByLabel('room_types: PMS value 1').inputValue()).toBe('cat-7');
      expect(await panel.getByLabel("room_types: this hotel's value 1").inputValue()).toBe('DBL');

      // A map named against the rules is refused, with the reason, and nothing is stored.
      await panel.getByLabel('New map name').fill('Rate Plans');
      await panel.getByRole('button', { name: 'Add a map' }).click();
      await panel.getByLabel('Rate Plans: PMS value 1').fill('bar');
      await panel.getByLabel("Rate Plans: this hotel's value 1").fill('BAR');
      await panel.getByRole('button', { name: 'Save value maps' }).click();
      await panel.getByRole('alert').filter({ hasText: 'VALIDATION_ERROR' }).waitFor();
      await panel.getByText('Rate Plans: is not an allowed field').waitFor();
      const unchanged = await call(t.app, 'GET', `/api/integrations/pms/connections/${hotel.propertyId}/`, {
        token: admin.token,
      });
      expect(unchanged.body.value_maps).toEqual({ room_types: { 'cat-7': 'DBL' } });
      await panel.getByRole('button', { name: 'Remove the map Rate Plans' }).click();

      // The missing category is added and saved.
      await panel.getByRole('button', { name: 'Add a value to room_types' }).click();
      await panel.getByLabel('room_types: PMS value 2').fill('cat-9');
      await panel.getByLabel("room_types: this hotel's value 2").fill('STE');
      await panel.getByRole('button', { name: 'Save value maps' }).click();
      await page.getByText('Value maps saved.').waitFor();
      await screenshot(page, 'integrations-value-maps');
      const saved = await call(t.app, 'GET', `/api/integrations/pms/connections/${hotel.propertyId}/`, {
        token: admin.token,
      });
      expect(saved.body.value_maps).toEqual({ room_types: { 'cat-7': 'DBL', 'cat-9': 'STE' } });
      const audit = await call(
        t.app,
        'GET',
        `/api/audit/?entity_type=pms_connection&property_id=${hotel.propertyId}`,
        { token: admin.token },
      );
      expect(audit.body.results[0]).toMatchObject({
        action: 'pms.connection.value_maps_updated',
        diff: { value_maps: { room_types: { 'cat-9': [null, 'STE'] } } },
      });

      // The quarantined booking replays from the Quarantine tab and now holds both rooms.
      await page.getByRole('tab', { name: 'Quarantine' }).click();
      const record = page.getByTestId('quarantined-record').filter({ hasText: 'external id B1' });
      await record
        .getByText(/value map "room_types" of this hotel's connection has no entry for "cat-9"/)
        .waitFor();
      await record.getByRole('button', { name: 'Replay this record' }).click();
      await page.getByText(/^Replay succeeded/).waitFor();
      const bookings = await call(
        t.app,
        'GET',
        `/api/integrations/pms/bookings/?property_id=${hotel.propertyId}`,
        { token: admin.token },
      );
      expect(bookings.body.results).toHaveLength(1);
      expect(bookings.body.results[0].rooms.map((r: { room_type_code: string }) => r.room_type_code)).toEqual(
        ['DBL', 'STE'],
      );
    } finally {
      await context.close();
    }
  });
});
