import { Type } from 'typebox';
import { PageQuery, ShortText, Timestamp, Uuid } from '../../app/schemas.ts';
import { API_KEY_SCOPES } from './api-key.scopes.ts';
import { MAX_ROTATION_GRACE_SECONDS } from './api-key.service.ts';

export const Scope = Type.Enum([...API_KEY_SCOPES], {
  description:
    'search: availability, quotes, rates and the catalogue; book: holds, creating, confirming, changing ' +
    'and cancelling reservations; reservations:read: reading reservations; events: the event history',
});
const RateLimit = Type.Integer({
  minimum: 1,
  maximum: 100_000,
  description: 'Requests per minute this key may make (per API process); default 600',
});
const ExpiresAt = Type.Union([Timestamp, Type.Null()], {
  description: 'When the key stops working (in the future), or null for never',
});

export const ApiKey = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    key_prefix: Type.String({ description: 'The part of the key that is not secret: `pms_key_<id>`' }),
    scopes: Type.Array(Scope),
    all_properties: Type.Boolean(),
    property_ids: Type.Array(Uuid),
    rate_limit_per_minute: Type.Integer(),
    expires_at: Type.Union([Timestamp, Type.Null()]),
    status: Type.Enum(['active', 'expired', 'revoked']),
    revoked_at: Type.Union([Timestamp, Type.Null()]),
    rotated_at: Type.Union([Timestamp, Type.Null()]),
    previous_secret_expires_at: Type.Union([Timestamp, Type.Null()], {
      description: 'Until when the secret replaced by the last rotation still works (null: it does not)',
    }),
    last_used_at: Type.Union([Timestamp, Type.Null()]),
    created_by: Type.Union([Uuid, Type.Null()]),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'ApiKey' },
);

export const ApiKeyWithSecret = Type.Object({
  ...ApiKey.properties,
  secret: Type.String({
    description: 'The whole key, `pms_key_<id>_<secret>`: shown in this answer only, never again',
  }),
});

export const CreateApiKeyBody = Type.Object(
  {
    name: ShortText({ maxLength: 100 }),
    scopes: Type.Array(Scope, { minItems: 1, maxItems: API_KEY_SCOPES.length, uniqueItems: true }),
    property_ids: Type.Optional(
      Type.Array(Uuid, {
        maxItems: 1000,
        uniqueItems: true,
        description: 'The properties the key may act on; required unless all_properties',
      }),
    ),
    all_properties: Type.Optional(
      Type.Boolean({ description: 'Every property, present and future (SUPER_ADMIN only)' }),
    ),
    expires_at: Type.Optional(ExpiresAt),
    rate_limit_per_minute: Type.Optional(RateLimit),
  },
  { additionalProperties: false },
);

export const UpdateApiKeyBody = Type.Object(
  {
    name: Type.Optional(ShortText({ maxLength: 100 })),
    rate_limit_per_minute: Type.Optional(RateLimit),
    expires_at: Type.Optional(ExpiresAt),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const RotateApiKeyBody = Type.Object(
  {
    grace_seconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_ROTATION_GRACE_SECONDS,
        description: 'How long the replaced secret keeps working (default 0: it stops at once)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ListApiKeysQuery = Type.Object(
  { ...PageQuery, property_id: Type.Optional(Uuid) },
  { additionalProperties: false },
);

export const UsageQuery = Type.Object(
  { hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 48, default: 24 })) },
  { additionalProperties: false },
);

export const ApiKeyUsage = Type.Object({
  results: Type.Array(Type.Object({ minute: Timestamp, requests: Type.Integer(), errors: Type.Integer() })),
  requests: Type.Integer({ description: 'Calls in the period' }),
  errors: Type.Integer({ description: 'Calls answered 4xx or 5xx in the period' }),
});
