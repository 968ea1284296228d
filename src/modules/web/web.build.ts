import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the admin's sources live and where Vite writes the built app. */
export const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));
export const WEB_DIST = path.join(WEB_ROOT, 'dist');
const CONFIG_FILE = path.join(WEB_ROOT, 'vite.config.ts');

export function adminIsBuilt(): boolean {
  return existsSync(path.join(WEB_DIST, 'index.html'));
}

function newestSourceTime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceTime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** True when a source file of the admin changed after the last build. */
export function adminIsStale(): boolean {
  if (!adminIsBuilt()) return true;
  return newestSourceTime(WEB_ROOT) > statSync(path.join(WEB_DIST, 'index.html')).mtimeMs;
}

/**
 * Builds the admin with Vite when it is missing (or stale, when asked). Several processes may
 * start at once (test workers, api + realtime roles): each builds into its own directory and the
 * finished build is moved into place with a rename, so nobody ever serves a half-written one.
 */
export async function ensureAdminBuild(
  options: { log?: (message: string) => void; rebuildIfStale?: boolean } = {},
): Promise<void> {
  if (options.rebuildIfStale ? !adminIsStale() : adminIsBuilt()) return;
  options.log?.('building the admin web app (src/web) with Vite');
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    throw new Error(
      'The admin web app is not built and Vite is not installed: run `npm ci` (its prepare step builds it).',
    );
  }
  const staging = path.join(WEB_ROOT, `.dist-${process.pid}-${Date.now().toString(36)}`);
  try {
    await vite.build({ configFile: CONFIG_FILE, logLevel: 'warn', build: { outDir: staging } });
    const previous = `${staging}-old`;
    if (existsSync(WEB_DIST)) {
      try {
        renameSync(WEB_DIST, previous);
      } catch {
        // Another process swapped it in the meantime; its build is as good as ours.
      }
    }
    try {
      renameSync(staging, WEB_DIST);
    } catch {
      // Another process put its finished build in place first.
    }
    rmSync(previous, { recursive: true, force: true });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
