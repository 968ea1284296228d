import { ForbiddenError, NotFoundError, ValidationError } from '../../app/errors.ts';
import { decodeCursor, encodeCursor } from '../../app/schemas.ts';
import { type Db, type Tx, withoutTimeLimits } from '../../db/database.ts';
import { type RequestContext, recordAudit } from '../audit/audit.repository.ts';
import { type Actor, assertCanSeeProperty, isSuperAdmin, propertyScope } from '../auth/auth.context.ts';
import { appendEvent } from '../events/outbox.ts';
import { nightCount } from '../inventory/inventory.dates.ts';
import * as erasure from './guest.erasure.repository.ts';
import { changed, likePatterns, needlesOf, scrubDocument, scrubText } from './guest.erasure.ts';
import { GuestConflictError, GuestErasedError, GuestSharedError } from './guest.errors.ts';
import * as repo from './guest.repository.ts';

type WriteContext = RequestContext & { actor: Actor };

export interface GuestListQuery {
  limit: number;
  cursor?: string;
  search?: string;
  name?: string;
  email?: string;
  phone?: string;
  property_id?: string;
}

export type GuestDetailsInput = Partial<repo.ProfileDetails>;

const STAYS_SHOWN = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DETAIL_FIELDS = ['first_name', 'last_name', 'full_name', 'email', 'phone'] as const;

const iso = (value: Date | null) => (value ? value.toISOString() : null);

/** A profile as every reader may see it; the stay fields are the caller's (its properties only). */
function toSummary(row: repo.ProfileListRow) {
  return {
    ...eventView(row),
    stay_count: row.stay_count,
    last_check_in: row.last_check_in,
    property_ids: row.property_ids,
  };
}

/** A profile in events: its details, no stays (each event goes to one property's consumers). */
function eventView(row: repo.ProfileRow) {
  return {
    id: row.id,
    first_name: row.first_name,
    last_name: row.last_name,
    full_name: row.full_name,
    email: row.email,
    phone: row.phone,
    erased: row.erased_at !== null,
    erased_at: iso(row.erased_at),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

const detailsOf = (row: repo.ProfileDetails): repo.ProfileDetails => ({
  first_name: row.first_name,
  last_name: row.last_name,
  full_name: row.full_name,
  email: row.email,
  phone: row.phone,
});

/** A user sees a guest through the properties where the guest has stays. */
function canSee(actor: Actor, properties: string[]): boolean {
  return isSuperAdmin(actor) || properties.some((id) => actor.propertyIds.includes(id));
}

/**
 * Edits, merges and erasure change what every hotel of the guest holds: a SUPER_ADMIN's, or a
 * PROPERTY_ADMIN's whose properties hold all of the guest's stays (else GUEST_SHARED).
 */
function assertAdministers(actor: Actor, properties: string[]): void {
  if (actor.role === 'STAFF') throw new ForbiddenError('Only administrators change guest profiles.');
  if (!isSuperAdmin(actor) && !properties.every((id) => actor.propertyIds.includes(id))) {
    throw new GuestSharedError();
  }
}

/**
 * The guest's details after an edit: a field sent replaces it (null or blank clears it); a new first
 * or last name without a full name gives a full name made of them. A name sent cannot be emptied.
 */
function editedDetails(current: repo.ProfileDetails, input: GuestDetailsInput): repo.ProfileDetails {
  const pick = (field: keyof repo.ProfileDetails) =>
    input[field] === undefined ? current[field] : input[field]?.trim() || null;
  const first = pick('first_name');
  const last = pick('last_name');
  const namesSent = input.first_name !== undefined || input.last_name !== undefined;
  const joined = [first, last].filter(Boolean).join(' ') || null;
  const full =
    input.full_name !== undefined ? pick('full_name') || joined : namesSent ? joined : current.full_name;
  if ((namesSent || input.full_name !== undefined) && !full) {
    throw new ValidationError('The guest needs a name.', [
      { pointer: '/body/full_name', message: 'give full_name, or first_name and/or last_name' },
    ]);
  }
  return { first_name: first, last_name: last, full_name: full, email: pick('email'), phone: pick('phone') };
}

/** One audit row and one event per property of the guest, so each hotel's log and consumers hear it. */
async function tellProperties(
  tx: Tx,
  ctx: WriteContext,
  properties: string[],
  audit: { action: string; entityId: string; diff: (propertyId: string | null) => Record<string, unknown> },
  event: {
    type: 'pms.guest.updated' | 'pms.guest.erased';
    data: (propertyId: string | null) => Record<string, unknown>;
  },
): Promise<void> {
  for (const propertyId of properties.length > 0 ? properties : [null]) {
    await recordAudit(tx, ctx, {
      action: audit.action,
      entityType: 'guest_profile',
      entityId: audit.entityId,
      propertyId,
      diff: audit.diff(propertyId),
    });
    await appendEvent(tx, event.type, propertyId, event.data(propertyId));
  }
}

/** Guest profiles across the hotel group: search, stays, edits, merges and erasure (issue #23). */
export function createGuestService(db: Db) {
  /** The profile and every property of its stays; 404 when the caller may not see it. */
  async function loadVisible(source: Db | Tx, actor: Actor, id: string) {
    const properties = await repo.propertiesOf(source, id);
    const profile = canSee(actor, properties)
      ? await repo.findProfile(source, id, propertyScope(actor))
      : undefined;
    if (!profile) throw new NotFoundError('Guest', id);
    return { profile, properties };
  }

  async function reload(source: Db | Tx, actor: Actor, id: string) {
    const row = await repo.findProfile(source, id, propertyScope(actor));
    if (!row) throw new NotFoundError('Guest', id);
    return toSummary(row);
  }

  return {
    async list(actor: Actor, query: GuestListQuery) {
      if (query.property_id) assertCanSeeProperty(actor, query.property_id);
      if (query.phone !== undefined && query.phone.replace(/\D/g, '').length === 0) {
        throw new ValidationError('Search a phone by its digits.', [
          { pointer: '/querystring/phone', message: 'must contain digits' },
        ]);
      }
      const cursor = decodeCursor(query.cursor);
      if (cursor && (!UUID.test(cursor.id) || Number.isNaN(Date.parse(String(cursor.sortKey))))) {
        throw new ValidationError('The cursor is not valid; use next_cursor from a previous page.', [
          { pointer: '/querystring/cursor', message: 'is not a valid cursor' },
        ]);
      }
      const rows = await repo.listProfiles(db, {
        propertyIds: propertyScope(actor),
        propertyId: query.property_id,
        search: query.search?.trim() || undefined,
        name: query.name?.trim() || undefined,
        email: query.email?.trim() || undefined,
        phone: query.phone?.trim() || undefined,
        after: cursor && { createdAt: String(cursor.sortKey), id: cursor.id },
        limit: query.limit,
      });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        results: page.map(toSummary),
        next_cursor:
          rows.length > query.limit && last ? encodeCursor(last.created_at.toISOString(), last.id) : null,
      };
    },

    async get(actor: Actor, id: string) {
      const { profile } = await loadVisible(db, actor, id);
      const stays = await repo.listStays(db, id, propertyScope(actor), STAYS_SHOWN);
      return {
        ...toSummary(profile),
        stays: stays.map((stay) => ({ ...stay, nights: nightCount(stay.check_in, stay.check_out) })),
      };
    },

    /** Edits the profile's details; a new e-mail or phone also becomes one the guest is found by. */
    async update(ctx: WriteContext, id: string, input: GuestDetailsInput) {
      assertAdministers(ctx.actor, (await loadVisible(db, ctx.actor, id)).properties);
      return db.transaction().execute(async (tx) => {
        const [before] = await repo.lockProfiles(tx, [id], 'details');
        if (!before) throw new NotFoundError('Guest', id);
        const properties = await repo.propertiesOf(tx, id);
        assertAdministers(ctx.actor, properties);
        if (before.erased_at) throw new GuestErasedError(id);
        const details = editedDetails(before, input);
        if (DETAIL_FIELDS.every((field) => details[field] === before[field]))
          return reload(tx, ctx.actor, id);
        if (details.email !== before.email || details.phone !== before.phone) {
          const key = await repo.matchKey(tx, details.email, details.phone);
          if (key && (await repo.claimKey(tx, key, id)) !== id) {
            throw new GuestConflictError(key.startsWith('email:') ? 'email' : 'phone');
          }
        }
        const after = await repo.updateProfile(tx, id, details);
        await tellProperties(
          tx,
          ctx,
          properties,
          {
            action: 'guest_profile.updated',
            entityId: id,
            diff: () => fieldDiffOf(detailsOf(before), detailsOf(after)),
          },
          {
            type: 'pms.guest.updated',
            data: () => ({ change: 'details_updated', guest: eventView(after), previous: detailsOf(before) }),
          },
        );
        return reload(tx, ctx.actor, id);
      });
    },

    /**
     * Merges a duplicate into this profile: its stays, e-mails and phones move here, details this
     * profile lacks are taken from it, and it is removed.
     */
    async merge(ctx: WriteContext, id: string, duplicateId: string) {
      const keeper = await loadVisible(db, ctx.actor, id);
      const notDuplicate = (message: string) =>
        new ValidationError(message, [{ pointer: '/body/duplicate_id', message }]);
      if (duplicateId.toLowerCase() === id.toLowerCase()) throw notDuplicate('is this guest itself');
      const duplicateProperties = await repo.propertiesOf(db, duplicateId);
      if (!canSee(ctx.actor, duplicateProperties) || !(await repo.findProfile(db, duplicateId, []))) {
        throw notDuplicate('names no guest you may see');
      }
      assertAdministers(ctx.actor, keeper.properties);
      assertAdministers(ctx.actor, duplicateProperties);
      return db.transaction().execute(async (tx) => {
        const locked = await repo.lockProfiles(tx, [id, duplicateId], 'guests');
        const before = locked.find((row) => row.id === id);
        const duplicate = locked.find((row) => row.id === duplicateId);
        if (!before) throw new NotFoundError('Guest', id);
        if (!duplicate) throw notDuplicate('names no guest you may see');
        assertAdministers(ctx.actor, [
          ...(await repo.propertiesOf(tx, id)),
          ...(await repo.propertiesOf(tx, duplicateId)),
        ]);
        for (const row of [before, duplicate]) if (row.erased_at) throw new GuestErasedError(row.id);
        const filled = Object.fromEntries(
          DETAIL_FIELDS.filter((field) => before[field] === null && duplicate[field] !== null).map(
            (field) => [field, duplicate[field]],
          ),
        );
        await repo.moveProfile(tx, duplicateId, id);
        const after = await repo.updateProfile(tx, id, {
          ...filled,
          merged_ids: [...new Set([...before.merged_ids, duplicateId, ...duplicate.merged_ids])],
        });
        await tellProperties(
          tx,
          ctx,
          await repo.propertiesOf(tx, id),
          {
            action: 'guest_profile.merged',
            entityId: id,
            diff: () => ({
              duplicate_id: [duplicateId, null],
              ...fieldDiffOf(detailsOf(before), detailsOf(after)),
            }),
          },
          {
            type: 'pms.guest.updated',
            data: () => ({ change: 'merged', guest: eventView(after), merged_guest_id: duplicateId }),
          },
        );
        return reload(tx, ctx.actor, id);
      });
    },

    /**
     * Erases the guest's personal data wherever this system stores it (docs/runbook.md, "Personal
     * data"), in one transaction; counts, money and inventory stay as they are. Without statement
     * time limits: the event and audit history it reads grows with the hotels' age.
     */
    async erase(ctx: WriteContext, id: string) {
      assertAdministers(ctx.actor, (await loadVisible(db, ctx.actor, id)).properties);
      const erased = await withoutTimeLimits(db, (connection) =>
        connection.transaction().execute(async (tx) => {
          const [profile] = await repo.lockProfiles(tx, [id], 'guests');
          if (!profile) throw new NotFoundError('Guest', id);
          assertAdministers(ctx.actor, await repo.propertiesOf(tx, id));
          const keys = await erasure.deleteKeys(tx, id);
          const guests = await erasure.guestRowsOf(tx, id);
          const reservations = await erasure.reservationsOf(
            tx,
            guests.map((g) => g.id),
          );
          const contactsOf = (prefix: string) =>
            keys.filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
          const needles = needlesOf({
            emails: [profile.email, ...guests.map((g) => g.email), ...contactsOf('email:')],
            phones: [profile.phone, ...guests.map((g) => g.phone), ...contactsOf('phone:')],
            names: [profile, ...guests].flatMap((g) => [g.first_name, g.last_name, g.full_name]),
          });
          const patterns = likePatterns(needles);
          const ties = {
            reservationIds: reservations.map((r) => r.id),
            profileIds: [id, ...profile.merged_ids],
          };
          let documents = 0;
          for (const sweep of erasure.SWEEPS) {
            const rows = await erasure.sweepRows(tx, sweep, ties, patterns);
            const scrubbed = rows
              .map((row) => ({
                ref: row.ref,
                before: row.value,
                value: sweep.json
                  ? scrubDocument(row.value, needles, row.of_guest)
                  : scrubText(String(row.value), needles, row.of_guest),
              }))
              .filter((row) => changed(row.before, row.value));
            await erasure.writeSwept(tx, sweep, scrubbed);
            documents += scrubbed.length;
          }
          const quarantined = await erasure.quarantinedRecords(tx, patterns);
          await erasure.eraseQuarantined(
            tx,
            quarantined.map((row) => ({ id: row.id, message: scrubText(row.message, needles, true) })),
          );
          const counts = {
            guest_rows: await erasure.eraseGuestRows(tx, id),
            reservations: await erasure.clearNotes(tx, ties.reservationIds),
            documents,
            quarantined_records: quarantined.length,
          };
          await erasure.eraseProfile(tx, id);
          const erasedAt = new Date().toISOString();
          const properties = [...new Set(guests.map((g) => g.property_id))].sort();
          // Audited and announced without the personal data: ids and counts only.
          await tellProperties(
            tx,
            ctx,
            properties,
            {
              action: 'guest_profile.erased',
              entityId: id,
              diff: () => ({ erased_at: [null, erasedAt], erased: counts }),
            },
            {
              type: 'pms.guest.erased',
              data: (propertyId) => ({
                guest_id: id,
                reservation_ids: reservations.filter((r) => r.property_id === propertyId).map((r) => r.id),
                erased_at: erasedAt,
              }),
            },
          );
          return counts;
        }),
      );
      return { guest: await reload(db, ctx.actor, id), erased };
    },
  };
}

/** `{field: [before, after]}` for the details that changed. */
function fieldDiffOf(before: repo.ProfileDetails, after: repo.ProfileDetails): Record<string, unknown> {
  return Object.fromEntries(
    DETAIL_FIELDS.filter((field) => before[field] !== after[field]).map((field) => [
      field,
      [before[field], after[field]],
    ]),
  );
}

export type GuestService = ReturnType<typeof createGuestService>;
