import { createHash } from 'node:crypto';
import helmet from 'helmet';
import { describe, expect, it } from 'vitest';
import { ADMIN_CSP, API_CSP, apiReferenceCsp, securityHeaders } from './security-headers.ts';

describe('securityHeaders', () => {
  it('records exactly the headers helmet sets on a real response, and nothing per request', async () => {
    const { createServer } = await import('node:http');
    const options = { contentSecurityPolicy: false } as const;
    // The same options through helmet's own middleware on a real server response.
    const server = createServer((request, response) =>
      helmet(options)(request, response, () => response.end()),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const real = await fetch(`http://127.0.0.1:${port}/`);
    server.close();
    const recorded = securityHeaders(options);
    for (const [name, value] of Object.entries(recorded)) expect(real.headers.get(name)).toBe(value);
    expect(recorded['x-content-type-options']).toBe('nosniff');
    expect(recorded['strict-transport-security']).toMatch(/max-age=/);
    expect(recorded['content-security-policy']).toBeUndefined();
  });
});

describe('Content-Security-Policy', () => {
  const directive = (policy: string, name: string) =>
    policy
      .split(';')
      .find((d) => d.startsWith(`${name} `))
      ?.split(' ')
      .slice(1);

  it('lets the admin run its own files only: no inline code, no eval, no plugins, no framing', () => {
    expect(directive(ADMIN_CSP, 'script-src')).toEqual(["'self'"]);
    expect(directive(ADMIN_CSP, 'style-src')).toEqual(["'self'"]);
    expect(directive(ADMIN_CSP, 'connect-src')).toEqual(["'self'"]);
    expect(directive(ADMIN_CSP, 'default-src')).toEqual(["'none'"]);
    for (const name of ['object-src', 'base-uri', 'frame-ancestors']) {
      expect(directive(ADMIN_CSP, name), name).toEqual(["'none'"]);
    }
    expect(ADMIN_CSP).not.toMatch(/unsafe|data:|\*/);
    expect(directive(API_CSP, 'default-src')).toEqual(["'none'"]);
    expect(directive(API_CSP, 'frame-ancestors')).toEqual(["'none'"]);
  });

  it('names the inline scripts of the API reference page by hash, and no script it loads by address', () => {
    const html =
      '<script src="js/scalar.js"></script>\n<script>one()</script>\n<script type="text/javascript">\n two()\n</script>';
    const hash = (body: string) => `'sha256-${createHash('sha256').update(body).digest('base64')}'`;
    const policy = apiReferenceCsp(html);
    expect(directive(policy, 'script-src')).toEqual(["'self'", hash('one()'), hash('\n two()\n')]);
    expect(policy).not.toMatch(/unsafe-eval/);
    expect(directive(policy, 'script-src')).not.toContain("'unsafe-inline'");
    expect(directive(policy, 'frame-ancestors')).toEqual(["'none'"]);
  });
});
