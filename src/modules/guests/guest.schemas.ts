import { Type } from 'typebox';
import { Currency, DateString, Money, PageQuery, Timestamp, Uuid } from '../../app/schemas.ts';
import { STATUSES } from '../reservations/reservation.schemas.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const Filter = (description: string) =>
  Type.Optional(Type.String({ minLength: 1, maxLength: 100, description }));

export const ListGuestsQuery = Type.Object(
  {
    ...PageQuery,
    search: Filter('Part of the name or e-mail, or digits of the phone'),
    name: Filter('Part of the name'),
    email: Filter('Part of the e-mail, or a whole address the guest ever booked with'),
    phone: Filter('Digits of the phone (spaces and punctuation are ignored), or a whole number'),
    property_id: Type.Optional(
      Type.String({ format: 'uuid', maxLength: 36, description: 'Guests with stays at this property' }),
    ),
  },
  { additionalProperties: false },
);

const ProfileFields = {
  id: Uuid,
  first_name: Nullable(Type.String()),
  last_name: Nullable(Type.String()),
  full_name: Nullable(Type.String()),
  email: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  erased: Type.Boolean({ description: 'Erased on request: the personal fields are null' }),
  erased_at: Nullable(Timestamp),
  created_at: Timestamp,
  updated_at: Timestamp,
};

/** What the caller may know of a guest's stays: those at the properties it may see. */
const ScopedFields = {
  stay_count: Type.Integer({ description: 'Stays at the properties you may see' }),
  last_check_in: Nullable(DateString),
  property_ids: Type.Array(Uuid, { description: 'The properties you may see where the guest has stays' }),
};

export const GuestSummary = Type.Object({ ...ProfileFields, ...ScopedFields });

export const Stay = Type.Object({
  reservation_id: Uuid,
  property_id: Uuid,
  confirmation_code: Type.String(),
  status: Type.Enum(STATUSES),
  check_in: DateString,
  check_out: DateString,
  nights: Type.Integer(),
  total_amount: Money,
  currency: Currency,
  source: Type.String(),
  guest_name: Nullable(Type.String({ description: 'The name the booking was made under' })),
});

export const GuestDetail = Type.Object({
  ...ProfileFields,
  ...ScopedFields,
  stays: Type.Array(Stay, { description: 'Newest arrival first; the latest 100' }),
});

export const UpdateGuestBody = Type.Object(
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
    description: 'Fields sent replace the stored ones (null clears); a name sent cannot be emptied',
  },
);

export const MergeGuestBody = Type.Object(
  {
    duplicate_id: Type.String({
      format: 'uuid',
      maxLength: 36,
      description: 'The duplicate profile: its stays, e-mails and phones move to this one, and it is removed',
    }),
  },
  { additionalProperties: false },
);

export const ErasureResult = Type.Object({
  guest: GuestSummary,
  erased: Type.Object(
    {
      guest_rows: Type.Integer({ description: 'Per-booking guest records anonymised' }),
      reservations: Type.Integer({ description: 'Reservations whose notes were cleared' }),
      documents: Type.Integer({
        description: 'Events, audit entries, stored responses and other records scrubbed',
      }),
      quarantined_records: Type.Integer({ description: 'Quarantined PMS records whose payload was removed' }),
    },
    { description: 'What the erasure changed; counts only' },
  ),
});
