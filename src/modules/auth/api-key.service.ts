import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnauthenticatedError,
  ValidationError,
} from '../../app/errors.ts';
import { decodeCursor, pageOf } from '../../app/schemas.ts';
import type { Db } from '../../db/database.ts';
import type { ApiKeyScope } from '../../db/schema.ts';
import { type RequestContext, recordAudit } from '../audit/audit.repository.ts';
import * as repo from './api-key.repository.ts';
import { apiKeyId, generateApiKey, hashApiKey, hashMatches, keyPrefixOf } from './api-key.secret.ts';
import type { ApiKeyState, AuthCache } from './auth.cache.ts';
import type { Actor } from './auth.context.ts';
import { countExistingProperties } from './auth.repository.ts';

export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;
/** The longest a rotated-out secret keeps working, so a partner can deploy the new one. */
export const MAX_ROTATION_GRACE_SECONDS = 86_400;

export type ApiKeyStatus = 'active' | 'expired' | 'revoked';

export interface PublicApiKey {
  id: string;
  name: string;
  key_prefix: string;
  scopes: ApiKeyScope[];
  all_properties: boolean;
  property_ids: string[];
  rate_limit_per_minute: number;
  expires_at: string | null;
  status: ApiKeyStatus;
  revoked_at: string | null;
  rotated_at: string | null;
  previous_secret_expires_at: string | null;
  last_used_at: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

const iso = (date: Date | null) => date?.toISOString() ?? null;

function statusOf(key: repo.ApiKeyRecord, now = Date.now()): ApiKeyStatus {
  if (key.revoked_at) return 'revoked';
  if (key.expires_at && key.expires_at.getTime() <= now) return 'expired';
  return 'active';
}

export function toPublicApiKey(key: repo.ApiKeyRecord): PublicApiKey {
  const now = Date.now();
  const graceRunning = key.previous_secret_expires_at && key.previous_secret_expires_at.getTime() > now;
  return {
    id: key.id,
    name: key.name,
    key_prefix: keyPrefixOf(key.id),
    scopes: key.scopes,
    all_properties: key.all_properties,
    property_ids: key.property_ids,
    rate_limit_per_minute: key.rate_limit_per_minute,
    expires_at: iso(key.expires_at),
    status: statusOf(key, now),
    revoked_at: iso(key.revoked_at),
    rotated_at: iso(key.rotated_at),
    previous_secret_expires_at: graceRunning && !key.revoked_at ? iso(key.previous_secret_expires_at) : null,
    last_used_at: iso(key.last_used_at),
    created_by: key.created_by,
    created_at: key.created_at.toISOString(),
    updated_at: key.updated_at.toISOString(),
  };
}

/** What the admin saw of a key, for the audit log: never its secret or hash. */
function audited(key: repo.ApiKeyRecord) {
  return {
    name: key.name,
    scopes: key.scopes,
    all_properties: key.all_properties,
    property_ids: key.property_ids,
    rate_limit_per_minute: key.rate_limit_per_minute,
    expires_at: iso(key.expires_at),
  };
}

export interface NewApiKeyInput {
  name: string;
  scopes: ApiKeyScope[];
  property_ids?: string[];
  all_properties?: boolean;
  expires_at?: string | null;
  rate_limit_per_minute?: number;
}

export interface ApiKeyChanges {
  name?: string;
  rate_limit_per_minute?: number;
  expires_at?: string | null;
}

const INVALID_KEY = 'The API key is not valid.';

function futureDate(value: string | null | undefined, pointer: string): Date | null {
  if (value === undefined || value === null) return null;
  const date = new Date(value);
  if (date.getTime() <= Date.now()) {
    throw new ValidationError('expires_at must be in the future.', [
      { pointer, message: 'must be in the future' },
    ]);
  }
  return date;
}

function assertAdministrator(actor: Actor): void {
  if (actor.role !== 'SUPER_ADMIN' && actor.role !== 'PROPERTY_ADMIN') {
    throw new ForbiddenError('Only administrators manage API keys.');
  }
}

/** A PROPERTY_ADMIN manages the keys limited to its own properties; a SUPER_ADMIN every key. */
function administers(actor: Actor, key: { all_properties: boolean; property_ids: string[] }): boolean {
  if (actor.role === 'SUPER_ADMIN') return true;
  return (
    !key.all_properties &&
    key.property_ids.length > 0 &&
    key.property_ids.every((id) => actor.propertyIds.includes(id))
  );
}

function stateOf(row: NonNullable<Awaited<ReturnType<typeof repo.findApiKeyForAuth>>>): ApiKeyState {
  return {
    grant: {
      id: row.id,
      name: row.name,
      scopes: row.scopes,
      allProperties: row.all_properties,
      rateLimitPerMinute: row.rate_limit_per_minute,
    },
    propertyIds: row.property_ids,
    secretHash: row.secret_hash,
    previousSecretHash: row.previous_secret_hash,
    previousSecretExpiresAt: row.previous_secret_expires_at?.getTime() ?? null,
    expiresAt: row.expires_at?.getTime() ?? null,
    revoked: row.revoked_at !== null,
  };
}

export function createApiKeyService(db: Db, cache: AuthCache) {
  async function loadAdministered(actor: Actor, id: string): Promise<repo.ApiKeyRecord> {
    assertAdministrator(actor);
    const key = await repo.findApiKey(db, id);
    // Another administrator's key reads as missing: its existence says something about other hotels.
    if (!key || !administers(actor, key)) throw new NotFoundError('API key', id);
    return key;
  }

  async function assertGrantable(actor: Actor, input: NewApiKeyInput): Promise<string[]> {
    const propertyIds = [...new Set(input.property_ids ?? [])];
    if (input.all_properties) {
      if (actor.role !== 'SUPER_ADMIN') {
        throw new ForbiddenError('Only a SUPER_ADMIN creates keys for all properties.');
      }
      if (propertyIds.length > 0) {
        throw new ValidationError('A key for all properties lists none.', [
          { pointer: '/body/property_ids', message: 'must be empty when all_properties is true' },
        ]);
      }
      return [];
    }
    if (propertyIds.length === 0) {
      throw new ValidationError('A key needs at least one property, or all_properties.', [
        { pointer: '/body/property_ids', message: 'must list at least one property' },
      ]);
    }
    // Checked before existence, so a property administrator learns nothing of other hotels' ids.
    if (actor.role !== 'SUPER_ADMIN' && propertyIds.some((id) => !actor.propertyIds.includes(id))) {
      throw new ForbiddenError('A property administrator gives keys only its own properties.');
    }
    if ((await countExistingProperties(db, propertyIds)) !== propertyIds.length) {
      throw new ValidationError('Some property_ids do not exist.', [
        { pointer: '/body/property_ids', message: 'contains an unknown property' },
      ]);
    }
    return propertyIds;
  }

  async function reread(id: string): Promise<repo.ApiKeyRecord> {
    cache.invalidate(id);
    return (await repo.findApiKey(db, id))!;
  }

  return {
    /**
     * Resolves an API key to its actor: the key's scopes and properties as the database has them,
     * read from the cache while it is live (AuthCache). Every refusal is 401; only a caller who holds
     * the key's secret learns that it was revoked or expired.
     */
    async authenticate(key: string): Promise<Actor> {
      const id = apiKeyId(key);
      if (!id) throw new UnauthenticatedError(INVALID_KEY);
      let state = cache.apiKey(id);
      if (!state) {
        const readStarted = cache.readStarted();
        const row = await repo.findApiKeyForAuth(db, id);
        if (!row) throw new UnauthenticatedError(INVALID_KEY);
        state = stateOf(row);
        cache.rememberApiKey(state, readStarted);
      }
      const now = Date.now();
      const hash = hashApiKey(key);
      const matches =
        hashMatches(hash, state.secretHash) ||
        (state.previousSecretExpiresAt !== null &&
          state.previousSecretExpiresAt > now &&
          hashMatches(hash, state.previousSecretHash));
      if (!matches) throw new UnauthenticatedError(INVALID_KEY);
      if (state.revoked) throw new UnauthenticatedError('The API key was revoked.');
      if (state.expiresAt !== null && state.expiresAt <= now) {
        throw new UnauthenticatedError('The API key has expired.');
      }
      return { id, role: 'STAFF', propertyIds: state.propertyIds, apiKey: state.grant };
    },

    async create(
      ctx: RequestContext & { actor: Actor },
      input: NewApiKeyInput,
    ): Promise<PublicApiKey & { secret: string }> {
      assertAdministrator(ctx.actor);
      const propertyIds = await assertGrantable(ctx.actor, input);
      const expiresAt = futureDate(input.expires_at, '/body/expires_at');
      const id = crypto.randomUUID();
      const secret = generateApiKey(id);
      await db.transaction().execute(async (tx) => {
        await repo.insertApiKey(tx, {
          id,
          name: input.name,
          scopes: [...new Set(input.scopes)],
          all_properties: input.all_properties === true,
          secret_hash: hashApiKey(secret),
          rate_limit_per_minute: input.rate_limit_per_minute ?? DEFAULT_RATE_LIMIT_PER_MINUTE,
          expires_at: expiresAt,
          created_by: ctx.actor.id,
        });
        await repo.setApiKeyProperties(tx, id, propertyIds);
        const created = (await repo.findApiKey(tx, id))!;
        await recordAudit(tx, ctx, {
          action: 'api_key.created',
          entityType: 'api_key',
          entityId: id,
          propertyId: propertyIds[0] ?? null,
          after: audited(created),
        });
      });
      return { ...toPublicApiKey((await repo.findApiKey(db, id))!), secret };
    },

    async list(actor: Actor, query: { limit: number; cursor?: string; property_id?: string }) {
      assertAdministrator(actor);
      const after = decodeCursor(query.cursor);
      const administeredBy = actor.role === 'SUPER_ADMIN' ? null : actor.propertyIds;
      if (query.property_id && administeredBy !== null && !administeredBy.includes(query.property_id)) {
        throw new NotFoundError('Property', query.property_id);
      }
      const rows = await repo.listApiKeys(db, {
        administeredBy,
        propertyId: query.property_id,
        after: after ? { createdAt: String(after.sortKey), id: after.id } : undefined,
        limit: query.limit,
      });
      const page = pageOf(rows, query.limit, (k) => k.created_at.toISOString());
      return { results: page.results.map(toPublicApiKey), next_cursor: page.next_cursor };
    },

    async get(actor: Actor, id: string): Promise<PublicApiKey> {
      return toPublicApiKey(await loadAdministered(actor, id));
    },

    async update(ctx: RequestContext & { actor: Actor }, id: string, changes: ApiKeyChanges) {
      const before = await loadAdministered(ctx.actor, id);
      if (before.revoked_at) throw new ConflictError('The API key was revoked.', 'API_KEY_REVOKED');
      const expiresAt =
        changes.expires_at === undefined ? undefined : futureDate(changes.expires_at, '/body/expires_at');
      await db.transaction().execute(async (tx) => {
        await repo.lockApiKey(tx, id);
        await repo.updateApiKey(tx, id, {
          ...(changes.name !== undefined && { name: changes.name }),
          ...(changes.rate_limit_per_minute !== undefined && {
            rate_limit_per_minute: changes.rate_limit_per_minute,
          }),
          ...(expiresAt !== undefined && { expires_at: expiresAt }),
        });
        await recordAudit(tx, ctx, {
          action: 'api_key.updated',
          entityType: 'api_key',
          entityId: id,
          propertyId: before.property_ids[0] ?? null,
          before: audited(before),
          after: audited((await repo.findApiKey(tx, id))!),
        });
      });
      return toPublicApiKey(await reread(id));
    },

    /**
     * A new secret for the key, shown once. The old one stops at once, or after `graceSeconds` so the
     * partner can deploy the new one; only the latest rotated-out secret is kept.
     */
    async rotate(
      ctx: RequestContext & { actor: Actor },
      id: string,
      graceSeconds: number,
    ): Promise<PublicApiKey & { secret: string }> {
      const before = await loadAdministered(ctx.actor, id);
      if (before.revoked_at) throw new ConflictError('The API key was revoked.', 'API_KEY_REVOKED');
      const secret = generateApiKey(id);
      await db.transaction().execute(async (tx) => {
        await repo.lockApiKey(tx, id);
        const current = (await repo.findApiKey(tx, id))!;
        if (current.revoked_at) throw new ConflictError('The API key was revoked.', 'API_KEY_REVOKED');
        const until = new Date(Date.now() + graceSeconds * 1000);
        await repo.rotateApiKey(
          tx,
          id,
          hashApiKey(secret),
          graceSeconds > 0 ? { hash: current.secret_hash, until } : null,
        );
        await recordAudit(tx, ctx, {
          action: 'api_key.rotated',
          entityType: 'api_key',
          entityId: id,
          propertyId: current.property_ids[0] ?? null,
          diff: {
            name: current.name,
            previous_secret_expires_at: graceSeconds > 0 ? until.toISOString() : null,
          },
        });
      });
      return { ...toPublicApiKey(await reread(id)), secret };
    },

    /** Ends the key for good, on every API process at once; revoking it again changes nothing. */
    async revoke(ctx: RequestContext & { actor: Actor }, id: string): Promise<PublicApiKey> {
      const before = await loadAdministered(ctx.actor, id);
      if (!before.revoked_at) {
        await db.transaction().execute(async (tx) => {
          // A concurrent revocation may have come first: one audit row per revocation.
          if (!(await repo.revokeApiKey(tx, id))) return;
          await recordAudit(tx, ctx, {
            action: 'api_key.revoked',
            entityType: 'api_key',
            entityId: id,
            propertyId: before.property_ids[0] ?? null,
            diff: { name: before.name, revoked: [false, true] },
          });
        });
      }
      return toPublicApiKey(await reread(id));
    },

    /** The key's calls per minute over the last `hours`, with their totals. */
    async usage(actor: Actor, id: string, hours: number) {
      await loadAdministered(actor, id);
      const rows = await repo.listUsage(db, id, new Date(Date.now() - hours * 3_600_000));
      return {
        results: rows.map((row) => ({
          minute: row.minute.toISOString(),
          requests: row.requests,
          errors: row.errors,
        })),
        requests: rows.reduce((sum, row) => sum + row.requests, 0),
        errors: rows.reduce((sum, row) => sum + row.errors, 0),
      };
    },
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;

/** Deletes usage rows older than `before` in batches, keeping each key's last use. */
export async function purgeOldApiKeyUsage(db: Db, before: Date, batch = 5_000): Promise<number> {
  let purged = 0;
  for (;;) {
    const deleted = await repo.deleteOldUsage(db, before, batch);
    purged += deleted;
    if (deleted < batch) return purged;
  }
}
