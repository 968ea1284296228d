import helmet from 'helmet';
import { describe, expect, it } from 'vitest';
import { securityHeaders } from './security-headers.ts';

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
