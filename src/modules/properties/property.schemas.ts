import { type TSchema, Type } from 'typebox';
import { Currency, DateString, PageQuery, ShortText, Timestamp, Uuid } from '../../app/schemas.ts';

const Code = Type.String({
  minLength: 1,
  maxLength: 50,
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
  description: 'Short code: letters, digits, "_", "-", "." (unique within its scope)',
});
const Timezone = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'IANA time zone of the hotel, e.g. "Europe/Berlin"; nights are hotel-local dates',
});
const PropertyStatus = Type.Union([Type.Literal('active'), Type.Literal('inactive')]);
const RoomStatus = Type.Union(
  [Type.Literal('available'), Type.Literal('occupied'), Type.Literal('dirty'), Type.Literal('out_of_order')],
  {
    description:
      'Summary of the room today: out_of_order (a block covers the business date), else occupied (a guest is ' +
      'checked in), else dirty (housekeeping), else available',
  },
);
/** What an administrator may still write as `status` (before migration 0053 it was the only state). */
const WritableRoomStatus = Type.Union([Type.Literal('available'), Type.Literal('dirty')], {
  description:
    'Legacy: available = housekeeping clean, dirty = dirty. Occupancy follows check-in and check-out; out of ' +
    'order has its own endpoint (docs/api.md, "Rooms")',
});
export const HousekeepingStatus = Type.Union(
  [Type.Literal('clean'), Type.Literal('dirty'), Type.Literal('inspected')],
  { description: 'dirty after a departure; clean once made up; inspected once a supervisor checked it' },
);
const RoomOccupancy = Type.Union([Type.Literal('vacant'), Type.Literal('occupied')]);
const Units = Type.Integer({ minimum: 0, maximum: 100_000 });
const Occupancy = Type.Integer({ minimum: 1, maximum: 100 });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const Address = Type.Object(
  {
    line1: Type.Optional(ShortText({ maxLength: 200 })),
    line2: Type.Optional(ShortText({ maxLength: 200 })),
    city: Type.Optional(ShortText({ maxLength: 100 })),
    region: Type.Optional(ShortText({ maxLength: 100 })),
    postal_code: Type.Optional(ShortText({ maxLength: 20 })),
    country: Type.Optional(
      Type.String({ pattern: '^[A-Z]{2}$', minLength: 2, maxLength: 2, description: 'ISO 3166-1 alpha-2' }),
    ),
  },
  { additionalProperties: false },
);

export const PropertyParams = Type.Object({ id: Uuid }, { additionalProperties: false });
export const RoomTypeParams = Type.Object({ id: Uuid, room_type_id: Uuid }, { additionalProperties: false });
export const RoomParams = Type.Object({ id: Uuid, room_id: Uuid }, { additionalProperties: false });

export const Property = Type.Object(
  {
    id: Uuid,
    code: Type.String(),
    name: Type.String(),
    timezone: Type.String(),
    currency: Type.String(),
    status: PropertyStatus,
    address: Nullable(Address),
    business_date: Type.String({
      format: 'date',
      description: "The hotel's current trading day (rolled by the night audit); nothing before it is sold",
    }),
    default_rate_plan_id: Nullable(
      Type.String({ format: 'uuid', description: 'Prices rooms booked without a rate plan' }),
    ),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'Property' },
);

export const CreatePropertyBody = Type.Object(
  {
    code: Code,
    name: ShortText(),
    timezone: Type.Optional(Timezone),
    currency: Type.Optional(Currency),
    status: Type.Optional(PropertyStatus),
    address: Type.Optional(Nullable(Address)),
  },
  { additionalProperties: false },
);

export const UpdatePropertyBody = Type.Object(
  {
    code: Type.Optional(Code),
    name: Type.Optional(ShortText()),
    timezone: Type.Optional(Timezone),
    currency: Type.Optional(Currency),
    status: Type.Optional(PropertyStatus),
    address: Type.Optional(Nullable(Address)),
    default_rate_plan_id: Type.Optional(
      Nullable(
        Type.String({
          format: 'uuid',
          maxLength: 36,
          description: 'A rate plan of this property that prices rooms booked without one; null: none',
        }),
      ),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ListPropertiesQuery = Type.Object(
  {
    ...PageQuery,
    search: Type.Optional(Type.String({ maxLength: 200, description: 'Part of the code or name' })),
    status: Type.Optional(PropertyStatus),
  },
  { additionalProperties: false },
);

export const RoomType = Type.Object(
  {
    id: Uuid,
    property_id: Uuid,
    code: Type.String(),
    name: Type.String(),
    description: Nullable(Type.String()),
    total_units: Type.Integer(),
    max_occupancy: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'RoomType' },
);

export const CreateRoomTypeBody = Type.Object(
  {
    code: Code,
    name: ShortText(),
    description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    total_units: Units,
    max_occupancy: Type.Optional(Occupancy),
  },
  { additionalProperties: false },
);

export const UpdateRoomTypeBody = Type.Object(
  {
    code: Type.Optional(Code),
    name: Type.Optional(ShortText()),
    description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    total_units: Type.Optional(Units),
    max_occupancy: Type.Optional(Occupancy),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ListRoomTypesQuery = Type.Object(
  {
    ...PageQuery,
    search: Type.Optional(Type.String({ maxLength: 200, description: 'Part of the code or name' })),
  },
  { additionalProperties: false },
);

const RoomNumber = Type.String({
  minLength: 1,
  maxLength: 20,
  pattern: '^\\S(.*\\S)?$',
  description: 'Room number or name, unique within the property',
});
const Floor = Type.String({ minLength: 1, maxLength: 20 });

export const OutOfOrder = Type.Object(
  {
    id: Uuid,
    room_id: Uuid,
    room_type_id: Uuid,
    start_date: DateString,
    end_date: Type.String({ format: 'date', description: 'First night back in service (exclusive end)' }),
    reason: Nullable(Type.String()),
    created_by: Nullable(Uuid),
    created_at: Timestamp,
    returned_at: Nullable(Timestamp),
  },
  { $id: 'RoomOutOfOrder' },
);

export const Room = Type.Object(
  {
    id: Uuid,
    property_id: Uuid,
    room_type_id: Uuid,
    number: Type.String(),
    floor: Nullable(Type.String()),
    status: RoomStatus,
    housekeeping_status: HousekeepingStatus,
    occupancy: RoomOccupancy,
    occupied_by: Nullable(
      Type.Object({
        reservation_id: Uuid,
        confirmation_code: Type.String(),
        check_in: DateString,
        check_out: DateString,
      }),
    ),
    out_of_order: Nullable(OutOfOrder),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'Room' },
);

export const CreateRoomBody = Type.Object(
  {
    room_type_id: Uuid,
    number: RoomNumber,
    floor: Type.Optional(Nullable(Floor)),
    housekeeping_status: Type.Optional(HousekeepingStatus),
    status: Type.Optional(WritableRoomStatus),
  },
  { additionalProperties: false },
);

export const UpdateRoomBody = Type.Object(
  {
    room_type_id: Type.Optional(Uuid),
    number: Type.Optional(RoomNumber),
    floor: Type.Optional(Nullable(Floor)),
    housekeeping_status: Type.Optional(HousekeepingStatus),
    status: Type.Optional(WritableRoomStatus),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ListRoomsQuery = Type.Object(
  {
    ...PageQuery,
    room_type_id: Type.Optional(Uuid),
    status: Type.Optional(RoomStatus),
    housekeeping_status: Type.Optional(HousekeepingStatus),
    occupancy: Type.Optional(RoomOccupancy),
    floor: Type.Optional(Floor),
    search: Type.Optional(Type.String({ maxLength: 20, description: 'Start of the room number' })),
  },
  { additionalProperties: false },
);

export const HousekeepingBody = Type.Object(
  { housekeeping_status: HousekeepingStatus },
  { additionalProperties: false },
);

export const OutOfOrderParams = Type.Object(
  { id: Uuid, room_id: Uuid, block_id: Uuid },
  { additionalProperties: false },
);

export const CreateOutOfOrderBody = Type.Object(
  {
    start_date: Type.String({
      format: 'date',
      maxLength: 10,
      description: 'First night out of order (the business date or later)',
    }),
    end_date: Type.String({
      format: 'date',
      maxLength: 10,
      description: 'First night back in service (exclusive); return the room earlier with /return/',
    }),
    reason: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  },
  { additionalProperties: false },
);

export const ReturnToServiceBody = Type.Object(
  {
    from_date: Type.Optional(
      Type.String({
        format: 'date',
        maxLength: 10,
        description: 'First night back in service; defaults to the business date',
      }),
    ),
  },
  { additionalProperties: false },
);
