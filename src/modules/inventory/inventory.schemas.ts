import { type Static, Type } from 'typebox';
import { DateString, Money, Timestamp, Uuid } from '../../app/schemas.ts';

const Count = Type.Integer({ minimum: 0, maximum: 100_000 });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const NIGHT_REASONS = [
  'SOLD_OUT',
  'STOP_SELL',
  'NOT_LOADED',
  'CLOSED_TO_ARRIVAL',
  'CLOSED_TO_DEPARTURE',
  'MIN_STAY',
  'MAX_STAY',
  'NO_RATE',
  'PAST_NIGHT',
] as const;
const Reason = Type.Enum(NIGHT_REASONS);

const NightFields = {
  date: DateString,
  total_units: Type.Integer(),
  booked_units: Type.Integer(),
  held_units: Type.Integer(),
  out_of_order_units: Type.Integer(),
  overbooking_limit: Type.Integer(),
  overbooked_units: Type.Integer({ description: 'Imported bookings beyond capacity; stops direct sales' }),
  available_units: Type.Integer({ description: 'total − out of order + overbooking limit − booked − held' }),
  stop_sell: Type.Boolean(),
};

export const CalendarNight = Type.Object({ room_type_id: Uuid, ...NightFields });

export const CalendarQuery = Type.Object(
  {
    property_id: Uuid,
    start: DateString,
    end: Type.String({ format: 'date', maxLength: 10, description: 'Last night (inclusive), YYYY-MM-DD' }),
    room_type_id: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

export const Calendar = Type.Object({ results: Type.Array(CalendarNight) });

export const PreloadBody = Type.Object(
  {
    room_type_id: Type.Optional(Uuid),
    property_id: Type.Optional(Uuid),
    start_date: DateString,
    end_date: Type.String({ format: 'date', maxLength: 10, description: 'Last night to load (inclusive)' }),
  },
  { additionalProperties: false, description: 'Exactly one of room_type_id and property_id' },
);

export const PreloadResult = Type.Object({
  property_id: Uuid,
  room_type_ids: Type.Array(Uuid),
  start_date: DateString,
  end_date: DateString,
  created: Type.Integer({ description: 'Nights created by this call (0 when all were loaded)' }),
});

const DayOfWeek = Type.Union([
  Type.Enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']),
  Type.Integer({ minimum: 1, maximum: 7, description: 'ISO weekday: 1 = Monday … 7 = Sunday' }),
]);

export const AdjustBody = Type.Object(
  {
    room_type_id: Uuid,
    start_date: DateString,
    end_date: Type.String({ format: 'date', maxLength: 10, description: 'Last night to change (inclusive)' }),
    days_of_week: Type.Optional(Type.Array(DayOfWeek, { minItems: 1, maxItems: 7, uniqueItems: true })),
    total_units: Type.Optional(Count),
    out_of_order_units: Type.Optional(Count),
    overbooking_limit: Type.Optional(Count),
    stop_sell: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type AdjustBodyInput = Static<typeof AdjustBody>;

export const AdjustResult = Type.Object({ room_type_id: Uuid, results: Type.Array(CalendarNight) });

export const CheckBody = Type.Object(
  {
    room_type_id: Uuid,
    check_in: DateString,
    check_out: DateString,
    units: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 1 })),
    rate_plan_id: Type.Optional(Uuid),
    adults: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 20,
        description: 'Adults per unit (default 1), as a booking has them',
      }),
    ),
    children: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 20, description: 'Children per unit (default 0)' }),
    ),
  },
  { additionalProperties: false },
);

export const CheckResult = Type.Object({
  room_type_id: Uuid,
  check_in: DateString,
  check_out: DateString,
  units: Type.Integer(),
  available: Type.Boolean({ description: 'Every night is bookable for the units asked' }),
  nights: Type.Array(Type.Object({ ...NightFields, bookable: Type.Boolean(), reasons: Type.Array(Reason) })),
  quote: Type.Optional(
    Type.Object({
      rate_plan_id: Uuid,
      currency: Type.String(),
      units: Type.Integer(),
      total: Nullable(Money),
      nightly: Type.Array(Type.Object({ date: DateString, amount: Nullable(Money) })),
    }),
  ),
});

export const HoldBody = Type.Object(
  {
    room_type_id: Uuid,
    check_in: DateString,
    check_out: DateString,
    units: Type.Integer({ minimum: 1, maximum: 1000 }),
    ttl_minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440, default: 15 })),
    reference: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  },
  { additionalProperties: false },
);

export const Hold = Type.Object({
  id: Uuid,
  property_id: Uuid,
  room_type_id: Uuid,
  check_in: DateString,
  check_out: DateString,
  units: Type.Integer(),
  status: Type.Enum(['active', 'confirmed', 'released', 'expired']),
  reference: Nullable(Type.String()),
  expires_at: Timestamp,
  created_at: Timestamp,
  updated_at: Timestamp,
});
