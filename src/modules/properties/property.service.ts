import { IANAZone } from 'luxon';
import { ConflictError, NotFoundError, ResourceInUseError, ValidationError } from '../../app/errors.ts';
import { pageOf } from '../../app/schemas.ts';
import type { Db, Tx } from '../../db/database.ts';
import type { Property } from '../../db/schema.ts';
import { type RequestContext, recordAudit } from '../audit/audit.repository.ts';
import {
  type Actor,
  assertCanAdminProperty,
  assertCanSeeProperty,
  assertRole,
  propertyScope,
} from '../auth/auth.context.ts';
import { localDate } from './business-date.ts';
import { keysetAfter } from './property.keyset.ts';
import * as repo from './property.repository.ts';

// A type alias (not an interface) so a view is also a plain record for the audit diff.
export type PropertyView = {
  id: string;
  code: string;
  name: string;
  timezone: string;
  currency: string;
  status: 'active' | 'inactive';
  address: Record<string, unknown> | null;
  business_date: string;
  default_rate_plan_id: string | null;
  created_at: string;
  updated_at: string;
};

export function toPropertyView(row: Property): PropertyView {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    timezone: row.timezone,
    currency: row.currency,
    status: row.status,
    address: row.address,
    business_date: row.business_date,
    default_rate_plan_id: row.default_rate_plan_id,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export interface PropertyInput {
  code: string;
  name: string;
  timezone?: string;
  currency?: string;
  status?: 'active' | 'inactive';
  address?: Record<string, unknown> | null;
  default_rate_plan_id?: string | null;
}

type WriteContext = RequestContext & { actor: Actor };

function assertTimezone(timezone: string | undefined): void {
  if (timezone !== undefined && !IANAZone.isValidZone(timezone)) {
    throw new ValidationError(`"${timezone}" is not an IANA time zone (e.g. "Europe/Berlin").`, [
      { pointer: '/body/timezone', message: 'is not an IANA time zone' },
    ]);
  }
}

/** The default rate plan must be one of the property's own plans (the database checks it too). */
async function assertOwnPlan(tx: Tx, propertyId: string, ratePlanId: string): Promise<void> {
  if (!(await repo.isPropertyPlan(tx, propertyId, ratePlanId))) {
    throw new ValidationError(`Rate plan ${ratePlanId} is not a rate plan of this property.`, [
      { pointer: '/body/default_rate_plan_id', message: 'must name a rate plan of this property' },
    ]);
  }
}

function duplicateCode(error: unknown, code: string | undefined): unknown {
  return repo.violatedUniqueConstraint(error) === 'property_code_key'
    ? new ConflictError(`A property with code "${code}" already exists.`)
    : error;
}

/** Use cases of properties (hotels). Scoping: a property the actor may not see does not exist for it. */
export function createPropertyService(db: Db) {
  async function loadVisible(actor: Actor, id: string): Promise<Property> {
    assertCanSeeProperty(actor, id);
    const property = await repo.findProperty(db, id);
    if (!property) throw new NotFoundError('Property', id);
    return property;
  }

  return {
    loadVisible,

    async list(
      actor: Actor,
      query: { limit: number; cursor?: string; search?: string; status?: 'active' | 'inactive' },
    ) {
      const rows = await repo.listProperties(db, {
        propertyIds: propertyScope(actor),
        search: query.search,
        status: query.status,
        after: keysetAfter(query.cursor),
        limit: query.limit,
      });
      const page = pageOf(rows, query.limit, (p) => p.code);
      return { results: page.results.map(toPropertyView), next_cursor: page.next_cursor };
    },

    async get(actor: Actor, id: string): Promise<PropertyView> {
      return toPropertyView(await loadVisible(actor, id));
    },

    async create(ctx: WriteContext, input: PropertyInput): Promise<PropertyView> {
      assertRole(ctx.actor, 'SUPER_ADMIN');
      assertTimezone(input.timezone);
      try {
        const created = await db.transaction().execute(async (tx) => {
          // A new hotel starts trading on its local today (luxon's zone database decides, not the server's).
          const row = await repo.insertProperty(tx, {
            ...input,
            business_date: localDate(input.timezone ?? 'UTC'),
          });
          await recordAudit(tx, ctx, {
            action: 'property.created',
            entityType: 'property',
            entityId: row.id,
            propertyId: row.id,
            after: toPropertyView(row),
          });
          return row;
        });
        return toPropertyView(created);
      } catch (error) {
        throw duplicateCode(error, input.code);
      }
    },

    async update(ctx: WriteContext, id: string, changes: Partial<PropertyInput>): Promise<PropertyView> {
      assertCanAdminProperty(ctx.actor, id);
      assertTimezone(changes.timezone);
      try {
        const updated = await db.transaction().execute(async (tx) => {
          const before = await repo.lockProperty(tx, id, 'update');
          if (!before) throw new NotFoundError('Property', id);
          if (changes.default_rate_plan_id) await assertOwnPlan(tx, id, changes.default_rate_plan_id);
          const after = await repo.updateProperty(tx, id, changes);
          await recordAudit(tx, ctx, {
            action: 'property.updated',
            entityType: 'property',
            entityId: id,
            propertyId: id,
            before: toPropertyView(before),
            after: toPropertyView(after),
          });
          return after;
        });
        return toPropertyView(updated);
      } catch (error) {
        throw duplicateCode(error, changes.code);
      }
    },

    /**
     * Deletes a hotel together with its room types, rooms and calendar, but never one with
     * reservation history or anything else that still refers to it.
     */
    async remove(ctx: WriteContext, id: string): Promise<void> {
      assertCanSeeProperty(ctx.actor, id);
      assertRole(ctx.actor, 'SUPER_ADMIN');
      await db.transaction().execute(async (tx) => {
        // Locked first: a reservation that starts referencing the hotel now waits for this delete.
        const property = await repo.lockProperty(tx, id, 'delete');
        if (!property) throw new NotFoundError('Property', id);
        const reservations = await repo.countReservations(tx, { propertyId: id });
        if (reservations > 0) {
          throw new ResourceInUseError(
            `Property "${property.code}" has ${reservations} reservation(s) and cannot be deleted; ` +
              'set its status to "inactive" instead.',
          );
        }
        const holds = await repo.countActiveHolds(tx, { propertyId: id });
        if (holds > 0) {
          throw new ResourceInUseError(
            `Property "${property.code}" has ${holds} active inventory hold(s) and cannot be deleted; ` +
              'release them first or set its status to "inactive".',
          );
        }
        try {
          await repo.deletePropertyWithRooms(tx, id);
        } catch (error) {
          const table = repo.blockingReference(error);
          if (!table) throw error;
          throw new ResourceInUseError(
            `Property "${property.code}" is still referenced by ${table.replaceAll('_', ' ')} records; ` +
              'remove them first or set its status to "inactive".',
          );
        }
        await recordAudit(tx, ctx, {
          action: 'property.deleted',
          entityType: 'property',
          entityId: id,
          propertyId: id,
          before: toPropertyView(property),
          after: null,
        });
      });
    },
  };
}

export type PropertyService = ReturnType<typeof createPropertyService>;
