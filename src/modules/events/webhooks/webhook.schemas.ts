import { Type } from 'typebox';
import { PageQuery, Timestamp, Uuid } from '../../../app/schemas.ts';
import { EVENT_TYPES } from '../outbox.ts';

const EventType = Type.Union(
  EVENT_TYPES.map((type) => Type.Literal(type)),
  { description: 'An event type of the catalogue (docs/events.md)' },
);
const Url = Type.String({ minLength: 8, maxLength: 2000, description: 'http:// or https:// endpoint' });
const Description = Type.Union([Type.String({ maxLength: 500 }), Type.Null()]);
const EventTypes = Type.Array(EventType, { minItems: 1, maxItems: EVENT_TYPES.length, uniqueItems: true });

export const CreateWebhookBody = Type.Object(
  {
    property_id: Uuid,
    url: Url,
    event_types: EventTypes,
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);

export const UpdateWebhookBody = Type.Object(
  {
    url: Type.Optional(Url),
    event_types: Type.Optional(EventTypes),
    description: Type.Optional(Description),
    enabled: Type.Optional(
      Type.Boolean({ description: 'Re-enabling delivers what queued up while disabled' }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ListWebhooksQuery = Type.Object(
  { ...PageQuery, property_id: Type.Optional(Uuid) },
  { additionalProperties: false },
);

export const DeliveriesQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });

export const DeliveryParams = Type.Object({ id: Uuid, delivery_id: Uuid }, { additionalProperties: false });

const webhookFields = {
  id: Uuid,
  property_id: Uuid,
  url: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  event_types: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  disabled_reason: Type.Union([Type.String(), Type.Null()]),
  disabled_at: Type.Union([Timestamp, Type.Null()]),
  delivery: Type.Object({
    failing_since: Type.Union([Timestamp, Type.Null()]),
    attempts: Type.Integer({ description: 'Failed attempts of the event now being retried' }),
    next_attempt_at: Type.Union([Timestamp, Type.Null()]),
    last_error: Type.Union([Type.String(), Type.Null()]),
  }),
  created_at: Timestamp,
  updated_at: Timestamp,
};

export const Webhook = Type.Object(webhookFields, { $id: 'Webhook' });

export const WebhookWithSecret = Type.Object({
  ...webhookFields,
  secret: Type.String({
    description: 'The Standard Webhooks signing secret (whsec_…). Shown only in this answer.',
  }),
});

export const UpdatedWebhook = Type.Object({
  ...webhookFields,
  secret: Type.Optional(
    Type.String({
      description:
        'Only when `url` moved to another origin (scheme, host or port): the new signing secret, which ' +
        'replaced the old one. Shown only in this answer.',
    }),
  ),
});

export const Delivery = Type.Object(
  {
    id: Uuid,
    subscription_id: Uuid,
    property_id: Uuid,
    event_id: Uuid,
    event_type: Type.String(),
    attempt: Type.Integer(),
    trigger: Type.Union([Type.Literal('automatic'), Type.Literal('manual')]),
    status: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
    response_status: Type.Union([Type.Integer(), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()], {
      description:
        'The HTTP status answered, a refused target, or one message for every failure below HTTP. The answer’s body is never kept.',
    }),
    duration_ms: Type.Integer(),
    created_at: Timestamp,
  },
  { $id: 'WebhookDelivery' },
);
