import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnauthenticatedError,
  ValidationError,
} from '../../app/errors.ts';
import { decodeCursor, pageOf } from '../../app/schemas.ts';
import type { Db, Tx } from '../../db/database.ts';
import type { UserRole } from '../../db/schema.ts';
import { type RequestContext, recordAudit } from '../audit/audit.repository.ts';
import { type ActorState, AuthCache, type VerifiedToken } from './auth.cache.ts';
import type { Actor } from './auth.context.ts';
import { emailUnavailable, isEmailTaken } from './auth.errors.ts';
import * as repo from './auth.repository.ts';
import {
  signAccessToken,
  signRefreshToken,
  type TokenSettings,
  verifyAccessToken,
  verifyRefreshToken,
} from './auth.tokens.ts';
import { burnPasswordCheck, hashPassword, verifyPassword } from './password.ts';

export interface PublicUser {
  id: string;
  email: string;
  role: UserRole;
  full_name: string | null;
  is_active: boolean;
  property_ids: string[];
  last_login_at: string | null;
  created_at: string;
  updated_at: string;
}

export function toPublicUser(user: repo.UserRecord): PublicUser {
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    full_name: user.full_name,
    is_active: user.is_active,
    property_ids: user.property_ids,
    last_login_at: user.last_login_at?.toISOString() ?? null,
    created_at: user.created_at.toISOString(),
    updated_at: user.updated_at.toISOString(),
  };
}

export interface TokenPair {
  access: string;
  refresh: string;
}

export interface NewUserInput {
  email: string;
  password: string;
  role: UserRole;
  full_name?: string | null;
  property_ids?: string[];
}

export interface UserChanges {
  email?: string;
  password?: string;
  role?: UserRole;
  full_name?: string | null;
  is_active?: boolean;
  property_ids?: string[];
}

const REVOKED = 'The token was revoked (signed out, new password or deactivation); sign in again.';

export function createAuthService(db: Db, tokens: TokenSettings, cache = new AuthCache({ actorTtlMs: 0 })) {
  async function verifiedAccessToken(token: string): Promise<VerifiedToken> {
    const cached = cache.verifiedToken(token);
    if (cached) return cached;
    const payload = await verifyAccessToken(tokens, token);
    const verified: VerifiedToken = {
      sub: payload.sub,
      expiresAt: (payload.exp ?? 0) * 1000,
      // Tokens issued before versions existed were issued under version 0, the column's start.
      tokenVersion: payload.sv ?? 0,
      ...(payload.sid !== undefined && { sessionId: payload.sid }),
    };
    cache.rememberToken(token, verified);
    return verified;
  }

  async function issuePair(
    user: { id: string; role: UserRole; token_version: number },
    familyId: string,
  ): Promise<TokenPair> {
    const tokenId = crypto.randomUUID();
    await repo.insertRefreshToken(db, {
      id: tokenId,
      user_id: user.id,
      family_id: familyId,
      expires_at: new Date(Date.now() + tokens.refreshTtlSeconds * 1000),
    });
    return {
      access: await signAccessToken(tokens, {
        id: user.id,
        role: user.role,
        tokenVersion: user.token_version,
        sessionId: familyId,
      }),
      refresh: await signRefreshToken(tokens, user.id, tokenId, familyId, user.token_version),
    };
  }

  /** Whether `state` accepts `token`; undefined when the state may be older than the token. */
  function accepts(state: ActorState, token: VerifiedToken): boolean | undefined {
    // Versions only grow: a token newer than the state means the state is stale, not the token.
    if (token.tokenVersion > state.tokenVersion) return undefined;
    if (token.tokenVersion < state.tokenVersion) return false;
    if (token.sessionId === undefined || state.liveSessions.has(token.sessionId)) return true;
    return state.revokedSessions.has(token.sessionId) ? false : undefined;
  }

  /** A PROPERTY_ADMIN manages STAFF of its own properties only; a SUPER_ADMIN manages everyone. */
  function assertCanManage(
    actor: Actor,
    target: { role: UserRole; property_ids: string[] },
    entityId?: string,
  ) {
    if (actor.role === 'SUPER_ADMIN') return;
    if (actor.role !== 'PROPERTY_ADMIN') throw new ForbiddenError('Only administrators manage users.');
    const shares = target.property_ids.some((id) => actor.propertyIds.includes(id));
    if (entityId && !shares) throw new NotFoundError('User', entityId);
    if (target.role !== 'STAFF')
      throw new ForbiddenError('A property administrator manages STAFF users only.');
    const outside = target.property_ids.filter((id) => !actor.propertyIds.includes(id));
    if (outside.length > 0) {
      throw new ForbiddenError('A property administrator can assign only its own properties.');
    }
    // A STAFF user without a property would be invisible to the administrator who made it.
    if (target.property_ids.length === 0) {
      throw new ForbiddenError('A property administrator must assign at least one of its own properties.');
    }
  }

  async function assertPropertiesExist(ids: string[]) {
    const unique = [...new Set(ids)];
    if ((await repo.countExistingProperties(db, unique)) !== unique.length) {
      throw new ValidationError('Some property_ids do not exist.', [
        { pointer: '/body/property_ids', message: 'contains an unknown property' },
      ]);
    }
  }

  /** A transaction that writes a user's email: losing the race for the address answers as the check does. */
  async function writingEmail<T>(actor: Actor, email: string, write: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await db.transaction().execute(write);
    } catch (error) {
      if (isEmailTaken(error)) throw emailUnavailable(actor, email);
      throw error;
    }
  }

  async function loadVisibleUser(actor: Actor, id: string): Promise<repo.UserRecord> {
    const user = await repo.findUserById(db, id);
    if (!user) throw new NotFoundError('User', id);
    if (actor.role === 'SUPER_ADMIN' || actor.id === id) return user;
    if (actor.role === 'PROPERTY_ADMIN' && user.property_ids.some((p) => actor.propertyIds.includes(p))) {
      return user;
    }
    throw new NotFoundError('User', id);
  }

  return {
    async login(email: string, password: string): Promise<TokenPair> {
      const user = await repo.findUserByEmail(db, email);
      if (!user) {
        await burnPasswordCheck(password);
        throw new UnauthenticatedError('No active account found with the given credentials.');
      }
      if (!(await verifyPassword(user.password_hash, password)) || !user.is_active) {
        throw new UnauthenticatedError('No active account found with the given credentials.');
      }
      await repo.recordLogin(db, user.id);
      return issuePair(user, crypto.randomUUID());
    },

    /** Rotates the refresh token; presenting an already-used one revokes its whole family (theft). */
    async refresh(refreshToken: string): Promise<TokenPair> {
      const payload = await verifyRefreshToken(tokens, refreshToken);
      const consumed = await db.transaction().execute((tx) => repo.consumeRefreshToken(tx, payload.jti));
      if (!consumed) {
        if (payload.fam) await repo.revokeRefreshFamily(db, payload.fam);
        throw new UnauthenticatedError('The refresh token has already been used or was revoked.');
      }
      const user = await repo.findUserById(db, consumed.user_id);
      if (!user?.is_active) throw new UnauthenticatedError('The account is no longer active.');
      // Whoever set a new password (the API, the CLI, SQL), a sign-in from before it cannot go on.
      if ((payload.sv ?? 0) !== user.token_version) {
        await repo.revokeRefreshFamily(db, consumed.family_id);
        throw new UnauthenticatedError(REVOKED);
      }
      return issuePair(user, consumed.family_id);
    },

    /** Signs out one sign-in: revokes the refresh token's family, which ends its access tokens too. */
    async logout(refreshToken: string): Promise<void> {
      const payload = await verifyRefreshToken(tokens, refreshToken);
      if (payload.fam) await repo.revokeUserSession(db, payload.sub, payload.fam);
    },

    /**
     * Resolves a bearer access token to the acting user: role and scope as the database has them,
     * read from the cache while it is live (see AuthCache), else from the database. A token issued
     * before a new password or a deactivation (`sv`), or whose sign-in was revoked (`sid`), is refused.
     */
    async authenticate(accessToken: string): Promise<Actor> {
      const token = await verifiedAccessToken(accessToken);
      const cached = cache.actor(token.sub);
      const verdict = cached && accepts(cached, token);
      if (verdict === true) return cached!.actor;
      if (verdict === false) throw new UnauthenticatedError(REVOKED);
      const readStarted = cache.readStarted();
      const user = await repo.findActorState(db, token.sub, token.sessionId);
      if (!user?.is_active) throw new UnauthenticatedError('The account is no longer active.');
      const state: ActorState = {
        actor: { id: user.id, email: user.email, role: user.role, propertyIds: user.property_ids },
        tokenVersion: user.token_version,
        liveSessions: new Set(user.session_live && token.sessionId ? [token.sessionId] : []),
        revokedSessions: new Set(user.session_live === false && token.sessionId ? [token.sessionId] : []),
      };
      cache.rememberActor(state, readStarted);
      if (user.token_version !== token.tokenVersion || user.session_live === false) {
        throw new UnauthenticatedError(REVOKED);
      }
      return state.actor;
    },

    async me(actor: Actor): Promise<PublicUser> {
      const user = await repo.findUserById(db, actor.id);
      if (!user) throw new UnauthenticatedError();
      return toPublicUser(user);
    },

    async createUser(ctx: RequestContext & { actor: Actor }, input: NewUserInput): Promise<PublicUser> {
      const propertyIds = [...new Set(input.property_ids ?? [])];
      assertCanManage(ctx.actor, { role: input.role, property_ids: propertyIds });
      await assertPropertiesExist(propertyIds);
      if (await repo.findUserByEmail(db, input.email)) throw emailUnavailable(ctx.actor, input.email);
      const passwordHash = await hashPassword(input.password);
      const id = await writingEmail(ctx.actor, input.email, async (tx) => {
        const userId = await repo.insertUser(tx, {
          email: input.email,
          password_hash: passwordHash,
          role: input.role,
          full_name: input.full_name ?? null,
        });
        await repo.setUserProperties(tx, userId, propertyIds);
        await recordAudit(tx, ctx, {
          action: 'user.created',
          entityType: 'user',
          entityId: userId,
          propertyId: propertyIds[0] ?? null,
          after: {
            email: input.email,
            role: input.role,
            full_name: input.full_name ?? null,
            property_ids: propertyIds,
          },
        });
        return userId;
      });
      return toPublicUser((await repo.findUserById(db, id))!);
    },

    async listUsers(
      actor: Actor,
      query: { limit: number; cursor?: string; role?: UserRole; search?: string; property_id?: string },
    ) {
      if (actor.role === 'STAFF') throw new ForbiddenError('Only administrators manage users.');
      const after = decodeCursor(query.cursor);
      let propertyIds: string[] | null = actor.role === 'SUPER_ADMIN' ? null : actor.propertyIds;
      if (query.property_id) {
        propertyIds =
          propertyIds === null || propertyIds.includes(query.property_id) ? [query.property_id] : [];
      }
      const rows = await repo.listUsers(db, {
        propertyIds,
        roles: query.role ? [query.role] : undefined,
        search: query.search,
        after: after ? { createdAt: String(after.sortKey), id: after.id } : undefined,
        limit: query.limit,
      });
      const page = pageOf(rows, query.limit, (u) => u.created_at.toISOString());
      return { results: page.results.map(toPublicUser), next_cursor: page.next_cursor };
    },

    async getUser(actor: Actor, id: string): Promise<PublicUser> {
      if (actor.role === 'STAFF' && actor.id !== id)
        throw new ForbiddenError('Only administrators manage users.');
      return toPublicUser(await loadVisibleUser(actor, id));
    },

    async updateUser(
      ctx: RequestContext & { actor: Actor },
      id: string,
      changes: UserChanges,
    ): Promise<PublicUser> {
      if (ctx.actor.role === 'STAFF') throw new ForbiddenError('Only administrators manage users.');
      const before = await loadVisibleUser(ctx.actor, id);
      if (ctx.actor.id !== id || changes.role !== undefined || changes.property_ids !== undefined) {
        assertCanManage(ctx.actor, before, id);
        assertCanManage(ctx.actor, {
          role: changes.role ?? before.role,
          property_ids: changes.property_ids ?? before.property_ids,
        });
      }
      if (changes.property_ids) await assertPropertiesExist(changes.property_ids);
      if (changes.email && changes.email.toLowerCase() !== before.email.toLowerCase()) {
        if (await repo.findUserByEmail(db, changes.email)) throw emailUnavailable(ctx.actor, changes.email);
      }
      const passwordHash = changes.password ? await hashPassword(changes.password) : undefined;
      await writingEmail(ctx.actor, changes.email ?? before.email, async (tx) => {
        await repo.updateUser(tx, id, {
          ...(changes.email !== undefined && { email: changes.email }),
          ...(changes.role !== undefined && { role: changes.role }),
          ...(changes.full_name !== undefined && { full_name: changes.full_name }),
          ...(changes.is_active !== undefined && { is_active: changes.is_active }),
          ...(passwordHash !== undefined && { password_hash: passwordHash }),
        });
        if (changes.property_ids) await repo.setUserProperties(tx, id, [...new Set(changes.property_ids)]);
        // A new password or a deactivation ends every session of that user: its refresh tokens here,
        // its access tokens by the token_version the database bumps (migration 0048).
        if (passwordHash !== undefined || changes.is_active === false) await repo.revokeUserTokens(tx, id);
        const after = await repo.findUserById(tx, id);
        await recordAudit(tx, ctx, {
          action: 'user.updated',
          entityType: 'user',
          entityId: id,
          propertyId: before.property_ids[0] ?? null,
          before: { ...before, password_changed: false },
          after: { ...after, password_changed: passwordHash !== undefined },
        });
      });
      cache.invalidate(id);
      return toPublicUser((await repo.findUserById(db, id))!);
    },

    async deleteUser(ctx: RequestContext & { actor: Actor }, id: string): Promise<void> {
      if (ctx.actor.role === 'STAFF') throw new ForbiddenError('Only administrators manage users.');
      const before = await loadVisibleUser(ctx.actor, id);
      if (before.id === ctx.actor.id) throw new ConflictError('You cannot delete your own account.');
      assertCanManage(ctx.actor, before, id);
      await db.transaction().execute(async (tx) => {
        await repo.deleteUser(tx, id);
        await recordAudit(tx, ctx, {
          action: 'user.deleted',
          entityType: 'user',
          entityId: id,
          propertyId: before.property_ids[0] ?? null,
          before: { email: before.email, role: before.role, property_ids: before.property_ids },
          after: null,
        });
      });
      cache.invalidate(id);
    },

    /** For the CLI: creates a SUPER_ADMIN, or resets the password and role of an existing user. */
    async ensureSuperuser(email: string, password: string): Promise<{ id: string; created: boolean }> {
      const passwordHash = await hashPassword(password);
      return db.transaction().execute(async (tx) => {
        const existing = await repo.findUserByEmail(tx, email);
        if (existing) {
          await repo.updateUser(tx, existing.id, {
            password_hash: passwordHash,
            role: 'SUPER_ADMIN',
            is_active: true,
          });
          await recordAudit(
            tx,
            { actor: null, requestId: null },
            {
              action: 'user.superuser_reset',
              entityType: 'user',
              entityId: existing.id,
              propertyId: null,
              diff: { role: [existing.role, 'SUPER_ADMIN'] },
            },
          );
          return { id: existing.id, created: false };
        }
        const id = await repo.insertUser(tx, {
          email,
          password_hash: passwordHash,
          role: 'SUPER_ADMIN',
          full_name: null,
        });
        await recordAudit(
          tx,
          { actor: null, requestId: null },
          {
            action: 'user.created',
            entityType: 'user',
            entityId: id,
            propertyId: null,
            after: { email, role: 'SUPER_ADMIN' },
          },
        );
        return { id, created: true };
      });
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;

/**
 * Deletes refresh tokens that expired before `before`, in batches of `batch` rows. An expired
 * token is refused by its signature's expiry before its row is read, so the row serves nothing.
 */
export async function purgeExpiredRefreshTokens(db: Db, before: Date, batch = 5_000): Promise<number> {
  let purged = 0;
  for (;;) {
    const deleted = await repo.deleteExpiredRefreshTokens(db, before, batch);
    purged += deleted;
    if (deleted < batch) return purged;
  }
}

export { verifyAccessToken };
