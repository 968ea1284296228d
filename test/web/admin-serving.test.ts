import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_CSP, API_CSP } from '../../src/app/plugins/security-headers.ts';
import { ensureAdminBuild, WEB_DIST } from '../../src/modules/web/web.build.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';

let t: TestContext;

beforeAll(async () => {
  await ensureAdminBuild({ rebuildIfStale: true });
  t = await createTestContext();
});
afterAll(async () => t?.close());

describe('the admin web app is served at /admin/', () => {
  it('redirects / and /admin to /admin/', async () => {
    for (const url of ['/', '/admin']) {
      const response = await t.app.inject({ url });
      expect(response.statusCode).toBe(302);
      expect(response.headers.location).toBe('/admin/');
    }
  });

  it('serves index.html at /admin/ and for client-side routes, never cached', async () => {
    for (const url of [
      '/admin/',
      '/admin/reservations',
      '/admin/reservations/7d1c0f6e-0000-4000-8000-000000000000',
    ]) {
      const response = await t.app.inject({ url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toMatch(/text\/html/);
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.body).toContain('<div id="app"></div>');
    }
  });

  it('sends the admin policy under /admin/ and the JSON API policy elsewhere', async () => {
    const script = readdirSync(path.join(WEB_DIST, 'assets')).find((name) => name.endsWith('.js'))!;
    for (const url of ['/admin/', '/admin/reservations', `/admin/assets/${script}`, '/admin/favicon.svg']) {
      const response = await t.app.inject({ url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-security-policy'], url).toBe(ADMIN_CSP);
    }
    // The page loads its script and stylesheet as files of its own: nothing inline to allow.
    const page = await t.app.inject({ url: '/admin/' });
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|style=/);
    for (const url of ['/readyz', '/api/properties/', '/openapi.json']) {
      const response = await t.app.inject({ url });
      expect(response.headers['content-security-policy'], url).toBe(API_CSP);
    }
  });

  it('serves hashed assets with a long cache, and 404s for a missing file', async () => {
    const script = readdirSync(path.join(WEB_DIST, 'assets')).find((name) => name.endsWith('.js'))!;
    const asset = await t.app.inject({ url: `/admin/assets/${script}` });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toContain('immutable');

    const missing = await t.app.inject({ url: '/admin/assets/nothing-here.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('does not answer writes under /admin/ with the app', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/admin/reservations' });
    expect(response.statusCode).toBe(404);
  });
});
