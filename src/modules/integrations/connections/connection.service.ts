import { type EgressPolicy, refusedLiteralHost } from '../../../app/egress.ts';
import { type FieldProblem, NotFoundError, ValidationError } from '../../../app/errors.ts';
import { decodeCursor, pageOf } from '../../../app/schemas.ts';
import type { Db } from '../../../db/database.ts';
import { type RequestContext, recordAudit } from '../../audit/audit.repository.ts';
import { type Actor, assertCanAdminProperty, propertyScope } from '../../auth/auth.context.ts';
import { findConfig } from '../config/config.repository.ts';
import { authOrigins } from '../connector/auth.ts';
import { assertIntegrationAdmin } from '../integrations.access.ts';
import { ConnectionMissingError, SecretsRequiredError } from '../integrations.errors.ts';
import { valueMapsUsedBy } from '../mapping/transforms.ts';
import * as repo from './connection.repository.ts';
import { openSecrets, sealSecrets } from './secret-box.ts';

export interface ConnectionInput {
  pms_type: string;
  version: string;
  base_url: string;
  hotel_external_id: string;
  secrets?: Record<string, string>;
  schedule_seconds?: number;
  enabled?: boolean;
  /** Replaces every value map when given; left out, the stored ones are kept. */
  value_maps?: ValueMaps;
}

/** A hotel's value maps by name: the PMS's value → this hotel's (v2 `value_map` transform). */
export type ValueMaps = Record<string, Record<string, string>>;

/** The public face of a connection: secret names, never their values. */
export interface ConnectionView {
  id: string;
  property_id: string;
  pms_type: string;
  version: string;
  base_url: string;
  hotel_external_id: string;
  secret_names: string[];
  schedule_seconds: number;
  enabled: boolean;
  cursor: string | null;
  next_run_at: string;
  last_run: { id: string; status: string; at: string | null } | null;
  value_maps: ValueMaps;
  created_at: string;
  updated_at: string;
}

export function toConnectionView(row: repo.ConnectionRow): ConnectionView {
  return {
    id: row.id,
    property_id: row.property_id,
    pms_type: row.pms_type,
    version: row.version,
    base_url: row.base_url,
    hotel_external_id: row.hotel_external_id,
    secret_names: [...row.secret_names].sort(),
    schedule_seconds: row.schedule_seconds,
    enabled: row.enabled,
    cursor: row.cursor,
    next_run_at: row.next_run_at.toISOString(),
    last_run: row.last_run_id
      ? {
          id: row.last_run_id,
          status: row.last_run_status ?? 'queued',
          at: row.last_run_at?.toISOString() ?? null,
        }
      : null,
    value_maps: row.value_maps,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

const SECRET_PLACEHOLDER = /\{secret\.([A-Za-z0-9_]+)\}/g;

/** Secrets a config's source uses: in its request, its auth block and its acknowledgements (v2). */
function secretsUsedBy(document: unknown): string[] {
  const source = (document as { source?: unknown }).source;
  return [...new Set([...JSON.stringify(source ?? {}).matchAll(SECRET_PLACEHOLDER)].map((m) => m[1]!))];
}

/** Origins besides base_url's that a config sends the secrets to (an absolute token or login URL). */
function extraSecretOrigins(document: unknown): string[] {
  return authOrigins((document as { source?: { auth?: unknown } }).source?.auth);
}

/** Most maps and entries a connection carries (the request schema bounds one request, this the result). */
const MAX_MAPS = 20;
const MAX_ENTRIES = 5000;

/**
 * Problems with a connection's value maps, by pointer under `at`: every map the config's
 * `value_map` transforms name must be there (empty is allowed: its values are then quarantined
 * until the hotel fills it), and the maps stay within their bounds.
 */
function valueMapProblems(maps: ValueMaps, document: unknown, at: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const [name, pointer] of valueMapsUsedBy(document)) {
    if (!Object.hasOwn(maps, name)) {
      problems.push({
        pointer: `${at}/${name}`,
        message: `is required: the PMS config's value_map at ${pointer} reads it`,
      });
    }
  }
  if (Object.keys(maps).length > MAX_MAPS)
    problems.push({ pointer: at, message: `has more than ${MAX_MAPS} maps` });
  for (const [name, entries] of Object.entries(maps)) {
    if (Object.keys(entries).length > MAX_ENTRIES)
      problems.push({ pointer: `${at}/${name}`, message: `has more than ${MAX_ENTRIES} entries` });
  }
  return problems;
}

/** What changed in the value maps, for the audit row: map → key → [before, after] (null: absent). */
function valueMapsDiff(before: ValueMaps, after: ValueMaps): Record<string, Record<string, unknown>> {
  const diff: Record<string, Record<string, unknown>> = {};
  let listed = 0;
  for (const name of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[name] ?? {};
    const b = after[name] ?? {};
    const changes: Record<string, unknown> = diff[name] ?? {};
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (a[key] === b[key]) continue;
      // An audit row stays readable: a map replaced whole lists its first 200 changes and a count.
      listed += 1;
      if (listed <= 200) changes[key] = [a[key] ?? null, b[key] ?? null];
      else changes['…'] = `${listed - 200} more`;
    }
    if (!(name in after) && name in before) changes['(map)'] = 'removed';
    if (Object.keys(changes).length > 0) diff[name] = changes;
  }
  return diff;
}

/** RFC 7396 on the value maps: null removes an entry, or a whole map. */
export function mergeValueMaps(
  maps: ValueMaps,
  patch: Record<string, Record<string, string | null> | null>,
): ValueMaps {
  const merged: ValueMaps = structuredClone(maps);
  for (const [name, entries] of Object.entries(patch)) {
    if (entries === null) {
      delete merged[name];
      continue;
    }
    const map = merged[name] ?? {};
    merged[name] = map;
    for (const [key, value] of Object.entries(entries)) {
      if (value === null) delete map[key];
      else map[key] = value;
    }
  }
  return merged;
}

function checkBaseUrl(value: string, allowedNetworks: EgressPolicy): FieldProblem | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { pointer: '/body/base_url', message: 'is not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { pointer: '/body/base_url', message: 'must be an http or https URL' };
  }
  if (url.username || url.password) {
    return { pointer: '/body/base_url', message: 'must not carry credentials; put them in secrets' };
  }
  if (url.search || url.hash)
    return { pointer: '/body/base_url', message: 'must not have a query or a fragment' };
  // A name is checked when it is resolved for each request, since what it points to can change.
  const refused = refusedLiteralHost(url.hostname, allowedNetworks);
  if (refused) {
    const message = `must not target ${refused.host}, which PMS_ALLOWED_NETWORKS (${allowedNetworks.description}) does not allow`;
    return { pointer: '/body/base_url', message };
  }
  return undefined;
}

export function createConnectionService(db: Db, secretsKey: Buffer, allowedNetworks: EgressPolicy) {
  async function get(actor: Actor, propertyId: string): Promise<ConnectionView> {
    assertCanAdminProperty(actor, propertyId);
    const row = await repo.findConnection(db, propertyId);
    if (!row) throw new ConnectionMissingError(propertyId);
    return toConnectionView(row);
  }

  return {
    get,

    /**
     * Changes a hotel's value maps by JSON Merge Patch, under the connection's row lock. The maps
     * after the patch must still hold every map the config reads; the change is audited entry by entry.
     */
    async patchValueMaps(
      ctx: RequestContext & { actor: Actor },
      propertyId: string,
      patch: Record<string, Record<string, string | null> | null>,
    ): Promise<ConnectionView> {
      assertCanAdminProperty(ctx.actor, propertyId);
      const current = await repo.findConnection(db, propertyId);
      if (!current) throw new ConnectionMissingError(propertyId);
      const config = await findConfig(db, current.pms_type, current.version);
      await db.transaction().execute(async (tx) => {
        const locked = await repo.lockValueMaps(tx, propertyId);
        if (!locked) throw new ConnectionMissingError(propertyId);
        const merged = mergeValueMaps(locked.value_maps, patch);
        const problems = valueMapProblems(merged, config?.document, '/body');
        if (problems.length > 0) throw new ValidationError('The value maps are not valid.', problems);
        const diff = valueMapsDiff(locked.value_maps, merged);
        if (Object.keys(diff).length === 0) return;
        await repo.saveValueMaps(tx, locked.id, merged);
        await recordAudit(tx, ctx, {
          action: 'pms.connection.value_maps_updated',
          entityType: 'pms_connection',
          entityId: propertyId,
          propertyId,
          diff: { value_maps: diff },
        });
      });
      return toConnectionView((await repo.findConnection(db, propertyId))!);
    },

    async list(actor: Actor, query: { property_id?: string; limit: number; cursor?: string }) {
      assertIntegrationAdmin(actor);
      const after = decodeCursor(query.cursor);
      const rows = await repo.listConnections(db, {
        propertyIds: propertyScope(actor),
        propertyId: query.property_id,
        after: after ? { sortKey: String(after.sortKey), id: after.id } : undefined,
        limit: query.limit,
      });
      const page = pageOf(rows, query.limit, (r) => r.sort_key);
      return { results: page.results.map(toConnectionView), next_cursor: page.next_cursor };
    },

    /**
     * Creates or replaces a hotel's connection. Secrets left out are kept, unless base_url moves to
     * another origin (scheme, host, port): then they must be given again (SECRETS_REQUIRED). Secrets
     * given replace the whole set. Moving to another config, base URL or hotel id starts the cursor over.
     */
    async put(ctx: RequestContext & { actor: Actor }, propertyId: string, input: ConnectionInput) {
      assertCanAdminProperty(ctx.actor, propertyId);
      if (!(await repo.propertyExists(db, propertyId))) throw new NotFoundError('Property', propertyId);
      const problems: FieldProblem[] = [];
      const config = await findConfig(db, input.pms_type, input.version);
      if (!config) {
        problems.push({
          pointer: '/body/version',
          message: `no PMS config ${input.pms_type} ${input.version} is loaded; upload it first`,
        });
      }
      const urlProblem = checkBaseUrl(input.base_url, allowedNetworks);
      if (urlProblem) problems.push(urlProblem);
      const before = await repo.findConnection(db, propertyId);
      const secrets =
        input.secrets ?? (before ? openSecrets(secretsKey, propertyId, before.secrets_ciphertext) : {});
      for (const name of config ? secretsUsedBy(config.document) : []) {
        if (!(name in secrets)) {
          problems.push({ pointer: `/body/secrets/${name}`, message: 'is required by the PMS config' });
        }
      }
      const valueMaps = input.value_maps ?? before?.value_maps ?? {};
      if (config) problems.push(...valueMapProblems(valueMaps, config.document, '/body/value_maps'));
      if (problems.length > 0) throw new ValidationError('The PMS connection is not valid.', problems);
      // Stored secrets never follow base_url to another origin unless they are given again.
      const to = new URL(input.base_url).origin;
      const origins = extraSecretOrigins(config!.document).filter((origin) => origin !== to);
      if (before && before.secret_names.length > 0 && input.secrets === undefined) {
        const from = new URL(before.base_url).origin;
        if (from !== to) throw new SecretsRequiredError(from, to);
        // Nor an auth block's token URL to an origin they were not given for.
        const given = new Set(before.secret_origins ?? []);
        const added = origins.find((origin) => !given.has(origin));
        if (added) throw SecretsRequiredError.forAuthOrigin(added);
      }
      const keepsSecrets =
        input.secrets === undefined && before !== undefined && before.secret_names.length > 0;
      const secretOrigins = keepsSecrets ? (before.secret_origins ?? null) : origins;

      const restart =
        !before ||
        before.config_id !== config!.id ||
        before.base_url !== input.base_url ||
        before.hotel_external_id !== input.hotel_external_id;
      const names = Object.keys(secrets).sort();
      await db.transaction().execute(async (tx) => {
        await repo.upsertConnection(tx, {
          property_id: propertyId,
          config_id: config!.id,
          base_url: input.base_url,
          hotel_external_id: input.hotel_external_id,
          secrets_ciphertext: names.length > 0 ? sealSecrets(secretsKey, propertyId, secrets) : null,
          secret_names: names,
          secret_origins: secretOrigins,
          schedule_seconds: input.schedule_seconds ?? before?.schedule_seconds ?? 300,
          enabled: input.enabled ?? before?.enabled ?? true,
          cursor: restart ? null : (before?.cursor ?? null),
          value_maps: valueMaps,
        });
        const describe = (c: Partial<repo.ConnectionRow> | undefined) =>
          c && {
            pms_type: c.pms_type,
            version: c.version,
            base_url: c.base_url,
            hotel_external_id: c.hotel_external_id,
            secret_names: c.secret_names,
            schedule_seconds: c.schedule_seconds,
            enabled: c.enabled,
          };
        await recordAudit(tx, ctx, {
          action: before ? 'pms.connection.updated' : 'pms.connection.created',
          entityType: 'pms_connection',
          entityId: propertyId,
          propertyId,
          before: describe(before),
          after: {
            ...describe({
              pms_type: input.pms_type,
              version: input.version,
              base_url: input.base_url,
              hotel_external_id: input.hotel_external_id,
              secret_names: names,
              schedule_seconds: input.schedule_seconds ?? before?.schedule_seconds ?? 300,
              enabled: input.enabled ?? before?.enabled ?? true,
            }),
            ...(input.secrets ? { secrets_replaced: true } : {}),
            ...(input.value_maps ? { value_maps: valueMapsDiff(before?.value_maps ?? {}, valueMaps) } : {}),
          },
        });
      });
      const row = (await repo.findConnection(db, propertyId))!;
      return { connection: toConnectionView(row), created: !before };
    },
  };
}

export type ConnectionService = ReturnType<typeof createConnectionService>;
