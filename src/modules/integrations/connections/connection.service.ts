import { type EgressPolicy, refusedLiteralHost } from '../../../app/egress.ts';
import { type FieldProblem, NotFoundError, ValidationError } from '../../../app/errors.ts';
import { decodeCursor, pageOf } from '../../../app/schemas.ts';
import type { Db } from '../../../db/database.ts';
import { type RequestContext, recordAudit } from '../../audit/audit.repository.ts';
import { type Actor, assertCanAdminProperty, propertyScope } from '../../auth/auth.context.ts';
import { findConfig } from '../config/config.repository.ts';
import { assertIntegrationAdmin } from '../integrations.access.ts';
import { ConnectionMissingError, SecretsRequiredError } from '../integrations.errors.ts';
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
}

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
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

const SECRET_PLACEHOLDER = /\{secret\.([A-Za-z0-9_]+)\}/g;

function secretsUsedBy(document: unknown): string[] {
  const request = (document as { source?: { request?: unknown } }).source?.request;
  return [...new Set([...JSON.stringify(request ?? {}).matchAll(SECRET_PLACEHOLDER)].map((m) => m[1]!))];
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
      if (problems.length > 0) throw new ValidationError('The PMS connection is not valid.', problems);
      // Stored secrets never follow base_url to another origin unless they are given again.
      if (before && before.secret_names.length > 0 && input.secrets === undefined) {
        const from = new URL(before.base_url).origin;
        const to = new URL(input.base_url).origin;
        if (from !== to) throw new SecretsRequiredError(from, to);
      }

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
          schedule_seconds: input.schedule_seconds ?? before?.schedule_seconds ?? 300,
          enabled: input.enabled ?? before?.enabled ?? true,
          cursor: restart ? null : (before?.cursor ?? null),
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
          },
        });
      });
      const row = (await repo.findConnection(db, propertyId))!;
      return { connection: toConnectionView(row), created: !before };
    },
  };
}

export type ConnectionService = ReturnType<typeof createConnectionService>;
