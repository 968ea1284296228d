import { Type } from 'typebox';
import { PageQuery, ShortText, Timestamp, Uuid } from '../../app/schemas.ts';

export const Role = Type.Union([
  Type.Literal('SUPER_ADMIN'),
  Type.Literal('PROPERTY_ADMIN'),
  Type.Literal('STAFF'),
]);
const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
const Password = Type.String({ minLength: 8, maxLength: 256 });

export const LoginBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);
/** Required unless the request says `X-Refresh-Token: cookie`: then the token is the cookie's. */
export const RefreshBody = Type.Object(
  { refresh: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })) },
  { additionalProperties: false },
);
export const TokenPair = Type.Object({
  access: Type.String(),
  refresh: Type.Optional(
    Type.String({
      description: 'Absent when the request said `X-Refresh-Token: cookie`: it is in the cookie.',
    }),
  ),
});
/** A browser asks for its refresh token as an HttpOnly cookie instead of in the body (docs/api.md). */
export const RefreshTransportHeaders = Type.Object({
  'x-refresh-token': Type.Optional(
    Type.Literal('cookie', {
      description:
        'Send `cookie` to get the refresh token as an HttpOnly SameSite=Strict cookie (`pms_refresh`, Path=/api/auth/token/) ' +
        'instead of in the body, and to have refresh and revoke read it from there.',
    }),
  ),
});

export const User = Type.Object(
  {
    id: Uuid,
    email: Type.String(),
    role: Role,
    full_name: Type.Union([Type.String(), Type.Null()]),
    is_active: Type.Boolean(),
    property_ids: Type.Array(Uuid),
    last_login_at: Type.Union([Timestamp, Type.Null()]),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'User' },
);

export const CreateUserBody = Type.Object(
  {
    email: Email,
    password: Password,
    role: Role,
    full_name: Type.Optional(Type.Union([ShortText(), Type.Null()])),
    property_ids: Type.Optional(Type.Array(Uuid, { maxItems: 1000, uniqueItems: true })),
  },
  { additionalProperties: false },
);

export const UpdateUserBody = Type.Object(
  {
    email: Type.Optional(Email),
    password: Type.Optional(Password),
    role: Type.Optional(Role),
    full_name: Type.Optional(Type.Union([ShortText(), Type.Null()])),
    is_active: Type.Optional(Type.Boolean()),
    property_ids: Type.Optional(Type.Array(Uuid, { maxItems: 1000, uniqueItems: true })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ListUsersQuery = Type.Object(
  {
    ...PageQuery,
    role: Type.Optional(Role),
    search: Type.Optional(Type.String({ maxLength: 200 })),
    property_id: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);
