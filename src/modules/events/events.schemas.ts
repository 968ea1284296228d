import { Type } from 'typebox';
import { Uuid } from '../../app/schemas.ts';
import { EVENT_TYPES } from './outbox.ts';

export const CloudEventSchema = Type.Object(
  {
    specversion: Type.Literal('1.0'),
    id: Uuid,
    type: Type.String({ description: EVENT_TYPES.join(', ') }),
    source: Type.String(),
    time: Type.String({ format: 'date-time' }),
    subject: Type.Union([Type.String(), Type.Null()], { description: 'The property id' }),
    datacontenttype: Type.Literal('application/json'),
    data: Type.Object({}, { additionalProperties: true }),
  },
  { $id: 'CloudEvent', additionalProperties: true, description: 'CloudEvents 1.0 structured JSON envelope' },
);

export const ReplayQuery = Type.Object(
  {
    after: Type.Optional(
      Type.String({
        format: 'uuid',
        maxLength: 36,
        description: 'The id of the last event already processed',
      }),
    ),
    types: Type.Optional(
      Type.String({ maxLength: 1000, description: `Comma-separated event types: ${EVENT_TYPES.join(', ')}` }),
    ),
    property_id: Type.Optional(Uuid),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);

export const ReplayPage = Type.Object({
  results: Type.Array(CloudEventSchema),
  last_event_id: Type.Union([Uuid, Type.Null()], { description: 'Pass as `after` to read on' }),
  has_more: Type.Boolean(),
});
