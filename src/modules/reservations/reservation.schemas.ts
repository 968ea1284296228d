import { Type } from 'typebox';
import { Currency, DateString, Money, PageQuery, Timestamp, Uuid } from '../../app/schemas.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const STATUSES = [
  'tentative',
  'confirmed',
  'checked_in',
  'checked_out',
  'cancelled',
  'no_show',
] as const;
const Status = Type.Enum(STATUSES);

const GuestBody = Type.Object(
  {
    first_name: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
    last_name: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
    full_name: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
    phone: Type.Optional(Nullable(Type.String({ maxLength: 40 }))),
  },
  { additionalProperties: false, description: 'At least a name: full_name, or first_name and/or last_name' },
);

const RoomBody = Type.Object(
  {
    room_type_id: Uuid,
    rate_plan_id: Type.Optional(Nullable(Uuid)),
    adults: Type.Optional(Type.Integer({ minimum: 0, maximum: 20, default: 1 })),
    children: Type.Optional(Type.Integer({ minimum: 0, maximum: 20, default: 0 })),
    complimentary: Type.Optional(
      Type.Boolean({
        description:
          'A free stay (0.00 on every night, no rate plan, no fee): PROPERTY_ADMIN and SUPER_ADMIN only; audited',
      }),
    ),
  },
  { additionalProperties: false },
);

export const CreateReservationBody = Type.Object(
  {
    property_id: Uuid,
    check_in: DateString,
    check_out: DateString,
    guest: GuestBody,
    rooms: Type.Array(RoomBody, { minItems: 1, maxItems: 50, description: 'One entry per room' }),
    status: Type.Optional(Type.Enum(['confirmed', 'tentative'])),
    notes: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    hold_id: Type.Optional(
      Type.String({
        format: 'uuid',
        maxLength: 36,
        description: 'Confirm this hold: its units become the booking without re-checking capacity',
      }),
    ),
  },
  { additionalProperties: false },
);

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '^[\\x21-\\x7E]+$',
      description: 'Same key and body within 24 h → the same response, booked once',
    }),
  ),
});

export const ModifyReservationBody = Type.Object(
  {
    check_in: Type.Optional(DateString),
    check_out: Type.Optional(DateString),
    rooms: Type.Optional(Type.Array(RoomBody, { minItems: 1, maxItems: 50 })),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'At least one of check_in, check_out, rooms',
  },
);

export const AssignRoomBody = Type.Object(
  {
    room_id: Nullable(Uuid),
    reservation_room_id: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

export const CodeParams = Type.Object(
  { code: Type.String({ minLength: 4, maxLength: 40, pattern: '^[A-Za-z0-9-]+$' }) },
  { additionalProperties: false },
);

export const ListReservationsQuery = Type.Object(
  {
    ...PageQuery,
    property_id: Type.Optional(Uuid),
    status: Type.Optional(
      Type.Array(Status, { maxItems: 6, description: 'One or more (repeat the parameter)' }),
    ),
    arrival_from: Type.Optional(DateString),
    arrival_to: Type.Optional(DateString),
    departure_from: Type.Optional(DateString),
    departure_to: Type.Optional(DateString),
    guest: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'Name, email, phone or confirmation code' }),
    ),
    source: Type.Optional(Type.String({ maxLength: 100, description: '"direct" or "pms:<type>"' })),
  },
  { additionalProperties: false },
);

export const Reservation = Type.Object({
  id: Uuid,
  property_id: Uuid,
  confirmation_code: Type.String(),
  status: Status,
  check_in: DateString,
  check_out: DateString,
  nights: Type.Integer(),
  source: Type.String(),
  external_id: Nullable(Type.String()),
  total_amount: Money,
  currency: Currency,
  notes: Nullable(Type.String()),
  hold_id: Nullable(Uuid),
  version: Type.Integer(),
  guest: Nullable(
    Type.Object({
      id: Uuid,
      first_name: Nullable(Type.String()),
      last_name: Nullable(Type.String()),
      full_name: Nullable(Type.String()),
      email: Nullable(Type.String()),
      phone: Nullable(Type.String()),
    }),
  ),
  rooms: Type.Array(
    Type.Object({
      id: Uuid,
      room_type_id: Uuid,
      rate_plan_id: Nullable(Uuid),
      room_id: Nullable(Uuid),
      adults: Type.Integer(),
      children: Type.Integer(),
      amount: Money,
      nightly_prices: Type.Array(Type.Object({ date: DateString, amount: Money })),
      complimentary: Type.Boolean(),
      cancellation_policy: Nullable(
        Type.Object(
          {},
          {
            additionalProperties: true,
            description:
              'The policy the room was booked under, with rate_plan_id naming the plan it came from (docs/rates.md)',
          },
        ),
      ),
    }),
  ),
  created_by: Nullable(Uuid),
  created_at: Timestamp,
  updated_at: Timestamp,
  cancelled_at: Nullable(Timestamp),
  fee: Nullable(
    Type.Object(
      {
        kind: Type.Enum(['cancellation', 'no_show']),
        amount: Money,
        currency: Currency,
        computed_at: Timestamp,
        rooms: Type.Array(
          Type.Object({
            reservation_room_id: Uuid,
            rate_plan_id: Nullable(Uuid),
            policy_rate_plan_id: Nullable(Uuid),
            policy: Nullable(Type.Object({}, { additionalProperties: true })),
            free_until: Nullable(Timestamp),
            penalty: Nullable(Type.Enum(['none', 'first_night', 'full_stay', 'percent'])),
            amount: Money,
          }),
        ),
      },
      { description: 'What cancelling or the no-show cost, per room and summed (docs/rates.md)' },
    ),
  ),
});

export const CheckInBody = Type.Object(
  {
    assign: Type.Optional(
      Type.Enum(['auto', 'none'], {
        description:
          'auto (default): each room without one gets a clean, vacant room of its type that is free for the ' +
          'stay, or the check-in is refused (ROOM_UNAVAILABLE); none: check in without assigning rooms',
      }),
    ),
  },
  { additionalProperties: false, description: 'Optional; an empty request means {"assign": "auto"}' },
);

export const ChangeDepartureBody = Type.Object(
  {
    check_out: Type.String({
      format: 'date',
      maxLength: 10,
      description:
        'The new check-out: later extends the stay, earlier shortens it (not before the business date)',
    }),
  },
  { additionalProperties: false },
);

export const UpdateDetailsBody = Type.Object(
  {
    guest: Type.Optional(
      Type.Object(
        {
          first_name: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
          last_name: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
          full_name: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
          email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
          phone: Type.Optional(Nullable(Type.String({ maxLength: 40 }))),
        },
        {
          additionalProperties: false,
          minProperties: 1,
          description: 'Fields sent replace the stored ones (null clears); the guest keeps a name',
        },
      ),
    ),
    notes: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  },
  { additionalProperties: false, minProperties: 1, description: 'At least one of guest, notes' },
);
