import { type Static, type TSchema, Type } from 'typebox';
import { Currency, DateString, Money, PageQuery, ShortText, Timestamp, Uuid } from '../../app/schemas.ts';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const dateNamed = (description: string) => Type.String({ format: 'date', maxLength: 10, description });

const PlanCode = Type.String({
  minLength: 1,
  maxLength: 50,
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
  description: 'Short code, unique within the property, e.g. "BAR" or "NRF-10"',
});
const NonNegativeMoney = Type.String({
  pattern: '^\\d{1,10}(\\.\\d{1,2})?$',
  maxLength: 13,
  description: 'Non-negative decimal amount as a string, e.g. "129.50"',
});
const Percent = Type.String({
  pattern: '^\\d{1,3}(\\.\\d{1,2})?$',
  maxLength: 6,
  description: 'Percentage as a decimal string, 0–100, e.g. "50.00"',
});
const OffsetType = Type.Union([Type.Literal('percent'), Type.Literal('amount')], {
  description: '"percent": parent × (100 + offset) / 100; "amount": parent + offset',
});
const StayLength = Type.Integer({ minimum: 1, maximum: 365 });

export const Penalty = Type.Union(
  [Type.Literal('none'), Type.Literal('first_night'), Type.Literal('full_stay'), Type.Literal('percent')],
  { description: 'What a cancellation after the free period costs' },
);

export const CancellationPolicy = Type.Object(
  {
    free_until_days: Nullable(
      Type.Integer({
        minimum: 0,
        maximum: 365,
        description: 'Free cancellation until this many days before arrival; null: non-refundable',
      }),
    ),
    deadline_hour: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 23,
        description:
          'Hotel-local hour at which the free period ends on its last day (default 0: midnight starting that day)',
      }),
    ),
    penalty: Penalty,
    penalty_percent: Type.Optional(Percent),
    no_show_penalty: Type.Optional(
      Type.Union(
        [
          Type.Literal('none'),
          Type.Literal('first_night'),
          Type.Literal('full_stay'),
          Type.Literal('percent'),
        ],
        { description: 'What a no-show costs (default: the same as a late cancellation)' },
      ),
    ),
    no_show_penalty_percent: Type.Optional(Percent),
    description: Type.Optional(ShortText({ maxLength: 500 })),
  },
  { additionalProperties: false, description: 'e.g. {"free_until_days": 2, "penalty": "first_night"}' },
);

export const OccupancyPricing = Type.Object(
  {
    base_occupancy: Type.Integer({
      minimum: 1,
      maximum: 100,
      description: 'Guests the nightly amount includes (adults first, then children)',
    }),
    extra_adult_amount: NonNegativeMoney,
    extra_child_amount: NonNegativeMoney,
  },
  {
    additionalProperties: false,
    description:
      'Per night and room: each adult beyond base_occupancy adds extra_adult_amount, each child beyond ' +
      'the places the adults leave adds extra_child_amount. Base plans only; derived plans follow their parent.',
  },
);
export type OccupancyPricingInput = Static<typeof OccupancyPricing>;
export type CancellationPolicyInput = Static<typeof CancellationPolicy>;

export const RatePlan = Type.Object(
  {
    id: Uuid,
    property_id: Uuid,
    code: Type.String(),
    name: Type.String(),
    currency: Type.String(),
    parent_rate_plan_id: Nullable(Uuid),
    offset_type: Nullable(OffsetType),
    offset_value: Nullable(Type.String()),
    cancellation_policy: Nullable(CancellationPolicy),
    occupancy_pricing: Nullable(OccupancyPricing),
    is_active: Type.Boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'RatePlan' },
);

export const CreateRatePlanBody = Type.Object(
  {
    property_id: Uuid,
    code: PlanCode,
    name: ShortText(),
    currency: Type.Optional(Currency),
    cancellation_policy: Type.Optional(Nullable(CancellationPolicy)),
    occupancy_pricing: Type.Optional(Nullable(OccupancyPricing)),
    parent_rate_plan_id: Type.Optional(Nullable(Uuid)),
    offset_type: Type.Optional(Nullable(OffsetType)),
    offset_value: Type.Optional(Nullable(Money)),
    is_active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateRatePlanInput = Static<typeof CreateRatePlanBody>;

export const UpdateRatePlanBody = Type.Object(
  {
    code: Type.Optional(PlanCode),
    name: Type.Optional(ShortText()),
    currency: Type.Optional(Currency),
    cancellation_policy: Type.Optional(Nullable(CancellationPolicy)),
    occupancy_pricing: Type.Optional(Nullable(OccupancyPricing)),
    parent_rate_plan_id: Type.Optional(Nullable(Uuid)),
    offset_type: Type.Optional(Nullable(OffsetType)),
    offset_value: Type.Optional(Nullable(Money)),
    is_active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateRatePlanInput = Static<typeof UpdateRatePlanBody>;

export const ListRatePlansQuery = Type.Object(
  { ...PageQuery, property_id: Type.Optional(Uuid), is_active: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

export const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type DayName = (typeof DAY_NAMES)[number];
const DayOfWeek = Type.Union([
  Type.Union(DAY_NAMES.map((day) => Type.Literal(day))),
  Type.Integer({ minimum: 1, maximum: 7, description: 'ISO weekday: 1 = Monday … 7 = Sunday' }),
]);

export const SetDailyRatesBody = Type.Object(
  {
    rate_plan_id: Uuid,
    room_type_id: Type.Optional(Uuid),
    room_type_ids: Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: 100, uniqueItems: true })),
    start_date: DateString,
    end_date: dateNamed('Last night to change (inclusive)'),
    days_of_week: Type.Optional(
      Type.Array(DayOfWeek, {
        minItems: 1,
        maxItems: 7,
        uniqueItems: true,
        description: 'Only these weekdays of the range, e.g. ["fri", "sat"] or [5, 6]; all when left out',
      }),
    ),
    amount: Type.Optional(Nullable(NonNegativeMoney)),
    min_stay: Type.Optional(Nullable(StayLength)),
    max_stay: Type.Optional(Nullable(StayLength)),
    closed_to_arrival: Type.Optional(Type.Boolean()),
    closed_to_departure: Type.Optional(Type.Boolean()),
    stop_sell: Type.Optional(Type.Boolean()),
    follow_parent: Type.Optional(
      Type.Literal(true, {
        description:
          'Derived plans only, alone: drop the plan’s own restrictions on these nights so they follow the parent again',
      }),
    ),
  },
  { additionalProperties: false },
);
export type SetDailyRatesInput = Static<typeof SetDailyRatesBody>;

export const DailyRatesResult = Type.Object({
  rate_plan_id: Uuid,
  room_type_ids: Type.Array(Uuid),
  start_date: DateString,
  end_date: DateString,
  days_of_week: Type.Array(Type.String()),
  fields: Type.Array(Type.String(), { description: 'The fields this request set' }),
  nights: Type.Integer({ description: 'Nights of the range that match days_of_week' }),
  changed: Type.Integer({ description: 'Cells (room type × night) actually written or removed' }),
  affected_rate_plan_ids: Type.Array(Uuid, { description: 'The plan and the derived plans that follow it' }),
});

export const GridQuery = Type.Object(
  {
    property_id: Uuid,
    start: DateString,
    end: dateNamed('Last night (inclusive)'),
    rate_plan_id: Type.Optional(Uuid),
    room_type_id: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

const GridNight = Type.Object({
  date: DateString,
  amount: Nullable(Money),
  min_stay: Nullable(Type.Integer()),
  max_stay: Nullable(Type.Integer()),
  closed_to_arrival: Type.Boolean(),
  closed_to_departure: Type.Boolean(),
  stop_sell: Type.Boolean(),
  restrictions_inherited: Type.Boolean({
    description: 'True when a derived plan has no row of its own and shows its parent’s restrictions',
  }),
});

export const RatesGrid = Type.Object(
  {
    property_id: Uuid,
    start: DateString,
    end: DateString,
    rate_plans: Type.Array(RatePlan),
    room_types: Type.Array(Type.Object({ id: Uuid, code: Type.String(), name: Type.String() })),
    results: Type.Array(
      Type.Object({
        rate_plan_id: Uuid,
        room_type_id: Uuid,
        currency: Type.String(),
        derived: Type.Boolean(),
        nights: Type.Array(GridNight),
      }),
    ),
  },
  { $id: 'RatesGrid' },
);

export const QuoteQuery = Type.Object(
  {
    rate_plan_id: Uuid,
    room_type_id: Uuid,
    check_in: DateString,
    check_out: dateNamed('Departure date (exclusive)'),
    adults: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 20,
        description: 'Adults in the room (default 1), as a booking has them',
      }),
    ),
    children: Type.Optional(Type.Integer({ minimum: 0, maximum: 20, description: 'Children (default 0)' })),
  },
  { additionalProperties: false },
);

export const RateQuote = Type.Object(
  {
    rate_plan_id: Uuid,
    room_type_id: Uuid,
    check_in: DateString,
    check_out: DateString,
    adults: Type.Integer(),
    children: Type.Integer(),
    currency: Type.String(),
    total: Nullable(Money),
    sellable: Type.Boolean({ description: 'Every night priced and no restriction broken' }),
    nights: Type.Array(
      Type.Object({
        date: DateString,
        amount: Nullable(Money),
        min_stay: Nullable(Type.Integer()),
        max_stay: Nullable(Type.Integer()),
        closed_to_arrival: Type.Boolean(),
        closed_to_departure: Type.Boolean(),
        stop_sell: Type.Boolean(),
        reasons: Type.Array(Type.String()),
      }),
    ),
  },
  { $id: 'RateQuote' },
);
