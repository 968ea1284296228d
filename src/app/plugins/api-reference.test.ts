import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../../test/helpers/context.ts';
import { apiReferenceLoads } from './api-reference.ts';

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => {
  await t.close();
});

describe('the API reference at /docs', () => {
  it('is not loaded until someone asks for it, then serves the page, its script and the document', async () => {
    expect(apiReferenceLoads()).toBe(0);

    const bare = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe('/docs/');

    const page = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('js/scalar.js');
    expect(page.body).toContain('./openapi.json');
    // This app's own headers, not only the inner server's.
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    // Its policy names each inline script of the page as served by its hash, and allows no other.
    const policy = String(page.headers['content-security-policy']);
    const inline = [
      ...page.body.matchAll(
        /<script>([\s\S]*?)<\/script>|<script type="text\/javascript">([\s\S]*?)<\/script>/g,
      ),
    ];
    expect(inline.length).toBe(2);
    const scriptSrc = policy
      .split(';')
      .find((d) => d.startsWith('script-src '))!
      .split(' ')
      .slice(1);
    expect(scriptSrc.sort()).toEqual(
      [
        "'self'",
        ...inline.map(
          (m) =>
            `'sha256-${createHash('sha256')
              .update(m[1] ?? m[2]!)
              .digest('base64')}'`,
        ),
      ].sort(),
    );
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(page.body).toContain('__zod_globalConfig');

    const script = await t.app.inject({ method: 'GET', url: '/docs/js/scalar.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toMatch(/^application\/javascript/);
    expect(Number(script.headers['content-length'])).toBe(script.rawPayload.length);
    expect(script.rawPayload.length).toBeGreaterThan(1_000_000);

    const document = await t.app.inject({ method: 'GET', url: '/docs/openapi.json' });
    expect(document.statusCode).toBe(200);
    const spec = document.json();
    expect(spec.info.title).toBe('PMS backend API');
    expect(Object.keys(spec.paths)).toContain('/api/inventory/check/');
    expect(Object.keys(spec.paths).some((path) => path.startsWith('/docs'))).toBe(false);

    const yaml = await t.app.inject({ method: 'GET', url: '/docs/openapi.yaml' });
    expect(yaml.statusCode).toBe(200);
    expect(yaml.body).toContain('/api/inventory/check/');

    // Loaded once, for all of them.
    expect(apiReferenceLoads()).toBe(1);
  });
});
