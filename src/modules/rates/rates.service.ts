import { Decimal } from 'decimal.js';
import { ConflictError, NotFoundError, ValidationError } from '../../app/errors.ts';
import { decodeCursor, pageOf } from '../../app/schemas.ts';
import type { Db, Tx } from '../../db/database.ts';
import { type RequestContext, recordAudit } from '../audit/audit.repository.ts';
import {
  type Actor,
  assertCanAdminProperty,
  assertCanSeeProperty,
  propertyScope,
} from '../auth/auth.context.ts';
import { appendEvent } from '../events/outbox.ts';
import { readSalesState } from '../properties/business-date.repository.ts';
import { PropertyInactiveError } from '../properties/business-date.ts';
import { assertOccupancy } from '../properties/max-occupancy.ts';
import { setDailyRates } from './rates.daily.ts';
import { daysBetween } from './rates.dates.ts';
import {
  RatePlanCodeTakenError,
  RatePlanHasAmountsError,
  RatePlanHierarchyError,
  RatePlanInUseError,
} from './rates.errors.ts';
import { buildGrid } from './rates.grid.ts';
import { MAX_DERIVATION_DEPTH, type OffsetType, roundMoney } from './rates.pricing.ts';
import { MAX_STAY_NIGHTS, quoteStay, quoteViolations } from './rates.quote.ts';
import * as repo from './rates.repository.ts';
import type {
  CancellationPolicyInput,
  CreateRatePlanInput,
  OccupancyPricingInput,
  SetDailyRatesInput,
  UpdateRatePlanInput,
} from './rates.schemas.ts';

export { stayRestrictionViolations } from './rates.pricing.ts';
export { quoteStay, quoteViolations, type RatesStayQuote } from './rates.quote.ts';

type Ctx = RequestContext & { actor: Actor };

export interface RatePlanView {
  id: string;
  property_id: string;
  code: string;
  name: string;
  currency: string;
  parent_rate_plan_id: string | null;
  offset_type: OffsetType | null;
  offset_value: string | null;
  cancellation_policy: CancellationPolicyInput | null;
  occupancy_pricing: OccupancyPricingInput | null;
  is_active: boolean;
  created_at: string;
  updated_at: string;
}

export function toRatePlanView(row: repo.RatePlanRow): RatePlanView {
  return {
    id: row.id,
    property_id: row.property_id,
    code: row.code,
    name: row.name,
    currency: row.currency,
    parent_rate_plan_id: row.parent_rate_plan_id,
    offset_type: row.offset_type,
    offset_value: row.offset_value === null ? null : String(row.offset_value),
    cancellation_policy: row.cancellation_policy as CancellationPolicyInput | null,
    occupancy_pricing:
      row.base_occupancy === null
        ? null
        : {
            base_occupancy: row.base_occupancy,
            extra_adult_amount: roundMoney(row.extra_adult_amount!),
            extra_child_amount: roundMoney(row.extra_child_amount!),
          },
    is_active: row.is_active,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

function auditFields(row: repo.RatePlanRow) {
  const { created_at: _created, updated_at: _updated, ...fields } = toRatePlanView(row);
  return fields;
}

const POLICY = '/body/cancellation_policy';

/** A penalty and its percentage: the percentage exactly when the penalty is "percent", above 0, at most 100. */
function checkPenalty(penalty: string, percent: string | undefined, field: string): string | undefined {
  if (penalty === 'percent') {
    if (percent === undefined) {
      throw new ValidationError(`A "percent" ${field} needs ${field}_percent.`, [
        { pointer: `${POLICY}/${field}_percent`, message: `is required when ${field} is "percent"` },
      ]);
    }
    const value = new Decimal(percent);
    if (value.lte(0) || value.gt(100)) {
      throw new ValidationError(`${field}_percent must be above 0 and at most 100.`, [
        { pointer: `${POLICY}/${field}_percent`, message: 'must be above 0 and at most 100' },
      ]);
    }
    return roundMoney(percent);
  }
  if (percent !== undefined) {
    throw new ValidationError(`${field}_percent is only meaningful with a "percent" ${field}.`, [
      { pointer: `${POLICY}/${field}_percent`, message: `is only allowed when ${field} is "percent"` },
    ]);
  }
  return undefined;
}

/** The shape rules JSON Schema cannot say: which penalty needs a percentage, and sane combinations. */
function checkCancellationPolicy(policy: CancellationPolicyInput | null | undefined) {
  if (!policy) return policy;
  const checked: CancellationPolicyInput = { ...policy };
  const percent = checkPenalty(policy.penalty, policy.penalty_percent, 'penalty');
  if (percent !== undefined) checked.penalty_percent = percent;
  if (policy.no_show_penalty !== undefined) {
    const noShowPercent = checkPenalty(
      policy.no_show_penalty,
      policy.no_show_penalty_percent,
      'no_show_penalty',
    );
    if (noShowPercent !== undefined) checked.no_show_penalty_percent = noShowPercent;
  } else if (policy.no_show_penalty_percent !== undefined) {
    throw new ValidationError(
      'no_show_penalty_percent is only meaningful with a "percent" no_show_penalty.',
      [
        {
          pointer: `${POLICY}/no_show_penalty_percent`,
          message: 'is only allowed when no_show_penalty is "percent"',
        },
      ],
    );
  }
  if (policy.free_until_days === null && policy.penalty === 'none') {
    throw new ValidationError('A non-refundable policy (free_until_days null) needs a penalty.', [
      { pointer: `${POLICY}/penalty`, message: 'must not be "none" when free_until_days is null' },
    ]);
  }
  if (policy.free_until_days === null && policy.deadline_hour !== undefined) {
    throw new ValidationError('A non-refundable policy (free_until_days null) has no free period to end.', [
      { pointer: `${POLICY}/deadline_hour`, message: 'is only allowed when free_until_days is a number' },
    ]);
  }
  return checked;
}

/** Occupancy pricing belongs to the base plan whose amounts are stored; a derived plan follows it. */
function checkOccupancyPricing(pricing: OccupancyPricingInput | null | undefined, derived: boolean) {
  if (pricing && derived) {
    throw new ValidationError(
      'A derived plan prices extra guests as its parent does (its offset applies to them): leave occupancy_pricing null.',
      [{ pointer: '/body/occupancy_pricing', message: 'must be null on a derived rate plan' }],
    );
  }
  return pricing;
}

function occupancyColumns(pricing: OccupancyPricingInput | null) {
  return {
    base_occupancy: pricing?.base_occupancy ?? null,
    extra_adult_amount: pricing ? roundMoney(pricing.extra_adult_amount) : null,
    extra_child_amount: pricing ? roundMoney(pricing.extra_child_amount) : null,
  };
}

interface Derivation {
  parentId: string;
  offsetType: OffsetType;
  offsetValue: string;
}

/** A parent needs an offset and an offset needs a parent; percent offsets stay within −100 … 1000. */
function checkDerivation(
  parentId: string | null,
  offsetType: OffsetType | null,
  offsetValue: string | null,
): Derivation | null {
  if (parentId === null) {
    if (offsetType !== null || offsetValue !== null) {
      throw new ValidationError('An offset applies only to a derived plan (one with parent_rate_plan_id).', [
        { pointer: '/body/parent_rate_plan_id', message: 'is required with offset_type and offset_value' },
      ]);
    }
    return null;
  }
  if (offsetType === null || offsetValue === null) {
    throw new ValidationError('A derived plan needs offset_type and offset_value.', [
      {
        pointer: offsetType === null ? '/body/offset_type' : '/body/offset_value',
        message: 'is required for a derived plan',
      },
    ]);
  }
  if (offsetType === 'percent') {
    const percent = new Decimal(offsetValue);
    if (percent.lt(-100) || percent.gt(1000)) {
      throw new ValidationError('A percent offset must be between -100.00 and 1000.00.', [
        {
          pointer: '/body/offset_value',
          message: 'must be between -100.00 and 1000.00 for a percent offset',
        },
      ]);
    }
  }
  return { parentId, offsetType, offsetValue: roundMoney(offsetValue) };
}

/**
 * Checks a parent for `planId` (null for a new plan): same property, no cycle, and the whole
 * chain (the parent's ancestors, the plan, the plans deriving from it) at most
 * MAX_DERIVATION_DEPTH levels of derivation. Call under lockPlanTree.
 */
async function checkParent(tx: Tx, propertyId: string, planId: string | null, parentId: string) {
  const ancestry = await repo.planAncestry(tx, parentId);
  const parent = ancestry[0];
  // Another property's plan is reported like a missing one: its existence is not the caller's business.
  if (!parent || parent.property_id !== propertyId) {
    throw new RatePlanHierarchyError('parent_rate_plan_id must name a rate plan of the same property.');
  }
  if (planId !== null && ancestry.some((link) => link.id === planId)) {
    throw new RatePlanHierarchyError('A rate plan cannot derive from itself or from a plan derived from it.');
  }
  const height =
    planId === null ? 0 : Math.max(0, ...(await repo.planDescendants(tx, planId)).map((d) => d.level));
  if (ancestry.length + height > MAX_DERIVATION_DEPTH) {
    throw new RatePlanHierarchyError(
      `That parent would make a chain of ${ancestry.length + height} derivations; at most ${MAX_DERIVATION_DEPTH} are allowed.`,
    );
  }
  return parent;
}

async function ratesChanged(
  tx: Tx,
  propertyId: string,
  cause: 'plan_created' | 'plan_updated' | 'plan_deleted',
  planId: string,
) {
  const derived = cause === 'plan_created' ? [] : (await repo.planDescendants(tx, planId)).map((d) => d.id);
  await appendEvent(tx, 'pms.rates.updated', propertyId, {
    cause,
    rate_plan_id: planId,
    affected_rate_plan_ids: [planId, ...derived],
    room_type_ids: null,
    start_date: null,
    end_date: null,
  });
}

export function createRatesService(db: Db) {
  async function loadVisiblePlan(actor: Actor, id: string) {
    const plan = await repo.findPlan(db, id);
    if (!plan) throw new NotFoundError('Rate plan', id);
    assertCanSeeProperty(actor, plan.property_id, 'Rate plan', id);
    return plan;
  }

  return {
    async listPlans(
      actor: Actor,
      query: { limit: number; cursor?: string; property_id?: string; is_active?: boolean },
    ) {
      const after = decodeCursor(query.cursor);
      let propertyIds = propertyScope(actor);
      if (query.property_id) {
        propertyIds =
          propertyIds === null || propertyIds.includes(query.property_id) ? [query.property_id] : [];
      }
      const rows = await repo.listPlans(db, {
        propertyIds,
        isActive: query.is_active,
        after: after ? { createdAt: String(after.sortKey), id: after.id } : undefined,
        limit: query.limit,
      });
      const page = pageOf(rows, query.limit, (plan) => plan.created_at.toISOString());
      return { results: page.results.map(toRatePlanView), next_cursor: page.next_cursor };
    },

    async getPlan(actor: Actor, id: string) {
      return toRatePlanView(await loadVisiblePlan(actor, id));
    },

    async createPlan(ctx: Ctx, input: CreateRatePlanInput) {
      assertCanAdminProperty(ctx.actor, input.property_id);
      const policy = checkCancellationPolicy(input.cancellation_policy);
      const derivation = checkDerivation(
        input.parent_rate_plan_id ?? null,
        input.offset_type ?? null,
        input.offset_value ?? null,
      );
      const occupancy = checkOccupancyPricing(input.occupancy_pricing, derivation !== null) ?? null;
      const row = await db.transaction().execute(async (tx) => {
        await repo.lockPlanTree(tx, input.property_id);
        const propertyCurrency = await repo.findPropertyCurrency(tx, input.property_id);
        if (propertyCurrency === undefined) throw new NotFoundError('Property', input.property_id);
        let currency = input.currency ?? propertyCurrency;
        if (derivation) {
          const parent = await checkParent(tx, input.property_id, null, derivation.parentId);
          currency = sameCurrencyAsParent(input.currency, parent.currency);
        }
        if (await repo.findPlanByCode(tx, input.property_id, input.code)) {
          throw new RatePlanCodeTakenError(input.code);
        }
        const plan = await repo.insertPlan(tx, {
          property_id: input.property_id,
          code: input.code,
          name: input.name,
          currency,
          parent_rate_plan_id: derivation?.parentId ?? null,
          offset_type: derivation?.offsetType ?? null,
          offset_value: derivation?.offsetValue ?? null,
          cancellation_policy: policy ? JSON.stringify(policy) : null,
          ...occupancyColumns(occupancy),
          ...(input.is_active !== undefined && { is_active: input.is_active }),
        });
        await recordAudit(tx, ctx, {
          action: 'rate_plan.created',
          entityType: 'rate_plan',
          entityId: plan.id,
          propertyId: plan.property_id,
          after: auditFields(plan),
        });
        await ratesChanged(tx, plan.property_id, 'plan_created', plan.id);
        return plan;
      });
      return toRatePlanView(row);
    },

    async updatePlan(ctx: Ctx, id: string, changes: UpdateRatePlanInput) {
      const visible = await loadVisiblePlan(ctx.actor, id);
      assertCanAdminProperty(ctx.actor, visible.property_id);
      const policy = checkCancellationPolicy(changes.cancellation_policy);
      const row = await db.transaction().execute(async (tx) => {
        await repo.lockPlanTree(tx, visible.property_id);
        const before = await repo.lockPlan(tx, id, 'update');
        if (!before) throw new NotFoundError('Rate plan', id);
        const parentId =
          changes.parent_rate_plan_id !== undefined
            ? changes.parent_rate_plan_id
            : before.parent_rate_plan_id;
        const derivation =
          parentId === null
            ? checkDerivation(null, changes.offset_type ?? null, changes.offset_value ?? null)
            : checkDerivation(
                parentId,
                changes.offset_type !== undefined ? changes.offset_type : before.offset_type,
                changes.offset_value !== undefined
                  ? changes.offset_value
                  : before.offset_value === null
                    ? null
                    : String(before.offset_value),
              );
        const occupancy =
          changes.occupancy_pricing !== undefined
            ? changes.occupancy_pricing
            : toRatePlanView(before).occupancy_pricing;
        checkOccupancyPricing(occupancy, derivation !== null);
        let currency = changes.currency ?? before.currency;
        if (derivation) {
          const parent =
            derivation.parentId === before.parent_rate_plan_id
              ? (await repo.planAncestry(tx, derivation.parentId))[0]!
              : await checkParent(tx, before.property_id, id, derivation.parentId);
          currency = sameCurrencyAsParent(changes.currency, parent.currency);
          if (before.parent_rate_plan_id === null) {
            const stored = await repo.countStoredAmounts(tx, id);
            if (stored > 0) throw new RatePlanHasAmountsError(stored);
          }
        }
        if (currency !== before.currency && (await repo.countPlanUsage(tx, id)).derivedPlans > 0) {
          throw new ConflictError(
            'Derived plans follow this plan’s currency; change or detach them before changing it.',
          );
        }
        if (changes.code !== undefined && changes.code !== before.code) {
          if (await repo.findPlanByCode(tx, before.property_id, changes.code)) {
            throw new RatePlanCodeTakenError(changes.code);
          }
        }
        const after = await repo.updatePlan(tx, id, {
          ...(changes.code !== undefined && { code: changes.code }),
          ...(changes.name !== undefined && { name: changes.name }),
          ...(changes.is_active !== undefined && { is_active: changes.is_active }),
          ...(changes.cancellation_policy !== undefined && {
            cancellation_policy: policy ? JSON.stringify(policy) : null,
          }),
          ...(changes.occupancy_pricing !== undefined && occupancyColumns(changes.occupancy_pricing)),
          currency,
          parent_rate_plan_id: derivation?.parentId ?? null,
          offset_type: derivation?.offsetType ?? null,
          offset_value: derivation?.offsetValue ?? null,
        });
        await recordAudit(tx, ctx, {
          action: 'rate_plan.updated',
          entityType: 'rate_plan',
          entityId: id,
          propertyId: after.property_id,
          before: auditFields(before),
          after: auditFields(after),
        });
        await ratesChanged(tx, after.property_id, 'plan_updated', id);
        return after;
      });
      return toRatePlanView(row);
    },

    async deletePlan(ctx: Ctx, id: string) {
      const visible = await loadVisiblePlan(ctx.actor, id);
      assertCanAdminProperty(ctx.actor, visible.property_id);
      await db.transaction().execute(async (tx) => {
        await repo.lockPlanTree(tx, visible.property_id);
        const before = await repo.lockPlan(tx, id, 'update');
        if (!before) throw new NotFoundError('Rate plan', id);
        const usage = await repo.countPlanUsage(tx, id);
        if (usage.defaultOf > 0) {
          throw new RatePlanInUseError(
            'The rate plan is its property’s default plan (default_rate_plan_id); choose another default ' +
              'or clear it first.',
          );
        }
        if (usage.derivedPlans > 0 || usage.reservations > 0) {
          throw new RatePlanInUseError(
            `The rate plan is used by ${usage.reservations} reservations and ${usage.derivedPlans} derived ` +
              'plans; deactivate it (is_active: false) instead.',
          );
        }
        await ratesChanged(tx, before.property_id, 'plan_deleted', id);
        await repo.deletePlan(tx, id);
        await recordAudit(tx, ctx, {
          action: 'rate_plan.deleted',
          entityType: 'rate_plan',
          entityId: id,
          propertyId: before.property_id,
          before: auditFields(before),
          after: null,
        });
      });
    },

    setDailyRates(ctx: Ctx, input: SetDailyRatesInput) {
      return setDailyRates(db, ctx, input);
    },

    grid(
      actor: Actor,
      query: {
        property_id: string;
        start: string;
        end: string;
        rate_plan_id?: string;
        room_type_id?: string;
      },
    ) {
      return buildGrid(db, actor, query, toRatePlanView);
    },

    /** A priced stay for an API caller, with the restrictions it breaks. */
    async quote(
      actor: Actor,
      query: {
        rate_plan_id: string;
        room_type_id: string;
        check_in: string;
        check_out: string;
        adults?: number;
        children?: number;
      },
    ) {
      const plan = await loadVisiblePlan(actor, query.rate_plan_id);
      const property = await readSalesState(db, plan.property_id);
      if (!property) throw new NotFoundError('Rate plan', query.rate_plan_id);
      if (property.status !== 'active') throw new PropertyInactiveError(property);
      const nights = daysBetween(query.check_in, query.check_out);
      if (nights < 1) {
        throw new ValidationError('check_out must be after check_in.', [
          { pointer: '/querystring/check_out', message: 'must be after check_in' },
        ]);
      }
      if (nights > MAX_STAY_NIGHTS) {
        throw new ValidationError(`A stay can be at most ${MAX_STAY_NIGHTS} nights.`, [
          {
            pointer: '/querystring/check_out',
            message: `must be at most ${MAX_STAY_NIGHTS} nights after check_in`,
          },
        ]);
      }
      const quote = await quoteStay(db, {
        propertyId: plan.property_id,
        ratePlanId: plan.id,
        roomTypeId: query.room_type_id,
        checkIn: query.check_in,
        checkOut: query.check_out,
        adults: query.adults,
        children: query.children,
      });
      assertOccupancy(
        [
          {
            roomTypeId: quote.roomTypeId,
            adults: quote.adults,
            children: quote.children,
            pointer: '/querystring/adults',
          },
        ],
        () => quote.maxOccupancy,
      );
      const violations = quoteViolations(quote);
      return {
        rate_plan_id: quote.ratePlanId,
        room_type_id: quote.roomTypeId,
        check_in: query.check_in,
        check_out: query.check_out,
        adults: quote.adults,
        children: quote.children,
        currency: quote.currency,
        total: quote.total,
        sellable: quote.total !== null && violations.every((night) => night.reasons.length === 0),
        nights: quote.nights.map((night, i) => ({
          date: night.date,
          amount: night.amount,
          min_stay: night.minStay,
          max_stay: night.maxStay,
          closed_to_arrival: night.closedToArrival,
          closed_to_departure: night.closedToDeparture,
          stop_sell: night.stopSell,
          reasons: violations[i]!.reasons,
        })),
      };
    },
  };
}

/** A derived plan's amounts are its parent's, so it prices in the parent's currency. */
function sameCurrencyAsParent(requested: string | undefined, parentCurrency: string): string {
  if (requested !== undefined && requested !== parentCurrency) {
    throw new ValidationError(`A derived plan uses its parent’s currency (${parentCurrency}).`, [
      { pointer: '/body/currency', message: `must be ${parentCurrency}, the parent plan’s currency` },
    ]);
  }
  return parentCurrency;
}

export type RatesService = ReturnType<typeof createRatesService>;
