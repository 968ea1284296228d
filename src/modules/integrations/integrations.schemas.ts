import { Type } from 'typebox';
import { Currency, DateString, Money, PageQuery, Timestamp, Uuid } from '../../app/schemas.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const Status = Type.Union([
  Type.Literal('tentative'),
  Type.Literal('confirmed'),
  Type.Literal('checked_in'),
  Type.Literal('checked_out'),
  Type.Literal('cancelled'),
  Type.Literal('no_show'),
]);
const RunStatus = Type.Union([
  Type.Literal('queued'),
  Type.Literal('running'),
  Type.Literal('succeeded'),
  Type.Literal('partial'),
  Type.Literal('failed'),
]);
const ErrorType = Type.Union([
  Type.Literal('PMSConnectionError'),
  Type.Literal('PMSDataValidationError'),
  Type.Literal('PMSBusinessRuleError'),
  Type.Literal('PMSMappingError'),
]);
const AnyObject = (description: string) => Type.Object({}, { additionalProperties: true, description });

export const ConfigDocumentBody = AnyObject(
  'A PMS config document (PMS_CONFIG.md); its JSON Schema is served at GET /api/integrations/pms/configs/schema/.',
);
export const JsonSchemaDocument = AnyObject('JSON Schema 2020-12 of the PMS config format');

export const Config = Type.Object({
  id: Uuid,
  pms_type: Type.String(),
  version: Type.String(),
  description: Nullable(Type.String()),
  checksum: Type.String({ description: 'sha256 of the document with sorted keys' }),
  origin: Type.Union([Type.Literal('upload'), Type.Literal('shipped')]),
  created_at: Timestamp,
  updated_at: Timestamp,
  document: Type.Optional(AnyObject('The config document')),
});
export const ConfigList = Type.Object({ results: Type.Array(Config) });
export const ConfigParams = Type.Object(
  {
    pms_type: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,49}$', maxLength: 50 }),
    version: Type.String({ pattern: '^[0-9A-Za-z][0-9A-Za-z._-]{0,29}$', maxLength: 30 }),
  },
  { additionalProperties: false },
);

export const CanonicalBooking = Type.Object({
  external_id: Type.String(),
  status: Status,
  check_in: DateString,
  check_out: DateString,
  guest: Type.Object({
    first_name: Nullable(Type.String()),
    last_name: Nullable(Type.String()),
    full_name: Nullable(Type.String()),
    email: Nullable(Type.String()),
    phone: Nullable(Type.String()),
  }),
  room_type_code: Nullable(Type.String()),
  room_number: Nullable(Type.String()),
  adults: Nullable(Type.Integer()),
  children: Nullable(Type.Integer()),
  total_amount: Nullable(Type.String()),
  currency: Nullable(Type.String()),
  source_updated_at: Nullable(Type.String()),
  notes: Nullable(Type.String()),
});

export const PreviewBody = Type.Object(
  {
    config: ConfigDocumentBody,
    records: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 1000, description: 'Sample raw records' }),
    property_id: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);
const RecordError = Type.Object({
  stage: Type.String(),
  error_type: ErrorType,
  field: Nullable(Type.String()),
  message: Type.String(),
  external_id: Nullable(Type.String()),
});
export const PreviewResult = Type.Object({
  mapped: Type.Integer(),
  failed: Type.Integer(),
  results: Type.Array(
    Type.Object({ index: Type.Integer(), booking: Nullable(CanonicalBooking), error: Nullable(RecordError) }),
  ),
  warnings: Type.Array(Type.String()),
});

const SecretName = '^[A-Za-z0-9_]{1,100}$';
export const ConnectionBody = Type.Object(
  {
    pms_type: Type.String({ minLength: 1, maxLength: 50 }),
    version: Type.String({ minLength: 1, maxLength: 30 }),
    base_url: Type.String({ minLength: 1, maxLength: 2000, description: 'The PMS API root, http(s)' }),
    hotel_external_id: Type.String({
      minLength: 1,
      maxLength: 200,
      description: "The hotel's id at the PMS",
    }),
    secrets: Type.Optional(
      Type.Record(Type.String({ pattern: SecretName }), Type.String({ minLength: 4, maxLength: 4096 }), {
        maxProperties: 20,
        description: 'Credentials by name, used as {secret.NAME}; left out: the stored ones are kept',
      }),
    ),
    schedule_seconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 604800 })),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const PropertyParams = Type.Object({ property_id: Uuid }, { additionalProperties: false });
export const Connection = Type.Object({
  id: Uuid,
  property_id: Uuid,
  pms_type: Type.String(),
  version: Type.String(),
  base_url: Type.String(),
  hotel_external_id: Type.String(),
  secret_names: Type.Array(Type.String(), { description: 'Names only: secret values are never returned' }),
  schedule_seconds: Type.Integer(),
  enabled: Type.Boolean(),
  cursor: Nullable(Type.String()),
  next_run_at: Timestamp,
  last_run: Nullable(Type.Object({ id: Uuid, status: Type.String(), at: Nullable(Timestamp) })),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export const ConnectionQuery = Type.Object(
  { ...PageQuery, property_id: Type.Optional(Uuid) },
  { additionalProperties: false },
);

export const SyncBody = Type.Object(
  {
    property_id: Uuid,
    wait: Type.Optional(
      Type.Boolean({ description: 'Answer 200 with the finished run instead of 202 queued' }),
    ),
  },
  { additionalProperties: false },
);
export const ReplayBody = Type.Object(
  {
    property_id: Uuid,
    sync_run_id: Type.Optional(Uuid),
    error_ids: Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: 1000, uniqueItems: true })),
    wait: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const SyncRun = Type.Object({
  id: Uuid,
  property_id: Uuid,
  trigger: Type.Union([Type.Literal('schedule'), Type.Literal('manual'), Type.Literal('replay')]),
  status: RunStatus,
  queued_at: Timestamp,
  started_at: Nullable(Timestamp),
  finished_at: Nullable(Timestamp),
  pages: Type.Integer(),
  fetched: Type.Integer(),
  created: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
  quarantined: Type.Integer(),
  cursor_before: Nullable(Type.String()),
  cursor_after: Nullable(Type.String()),
  schema_drift: Nullable(
    Type.Object({ new_fields: Type.Array(Type.String()), vanished_fields: Type.Array(Type.String()) }),
  ),
  warnings: Nullable(AnyObject('Bookings stored without an inventory effect, by reason')),
  timings: Nullable(Type.Record(Type.String(), Type.Number())),
  error: Nullable(Type.String()),
});
export const RunQuery = Type.Object(
  { ...PageQuery, property_id: Type.Optional(Uuid), status: Type.Optional(RunStatus) },
  { additionalProperties: false },
);

export const IngestionError = Type.Object({
  id: Uuid,
  sync_run_id: Uuid,
  property_id: Uuid,
  stage: Type.String(),
  error_type: ErrorType,
  field: Nullable(Type.String()),
  message: Type.String(),
  external_id: Nullable(Type.String()),
  raw: Type.Unknown({ description: 'The raw record as the PMS sent it' }),
  replay_status: Type.Union([Type.Literal('pending'), Type.Literal('ingested'), Type.Literal('failed')]),
  replayed_at: Nullable(Timestamp),
  replay_run_id: Nullable(Uuid),
  created_at: Timestamp,
});
export const ErrorQuery = Type.Object(
  {
    ...PageQuery,
    sync_run_id: Type.Optional(Uuid),
    property_id: Type.Optional(Uuid),
    replay_status: Type.Optional(
      Type.Union([Type.Literal('pending'), Type.Literal('ingested'), Type.Literal('failed')]),
    ),
    error_type: Type.Optional(ErrorType),
  },
  { additionalProperties: false },
);

export const IngestedBooking = Type.Object({
  id: Uuid,
  property_id: Uuid,
  source: Type.String(),
  pms_type: Type.String(),
  external_id: Type.String(),
  confirmation_code: Type.String(),
  status: Status,
  check_in: DateString,
  check_out: DateString,
  guest: Type.Object({
    first_name: Nullable(Type.String()),
    last_name: Nullable(Type.String()),
    full_name: Nullable(Type.String()),
    email: Nullable(Type.String()),
    phone: Nullable(Type.String()),
  }),
  room_type_code: Nullable(Type.String()),
  room_type_id: Nullable(Uuid),
  room_number: Nullable(Type.String()),
  room_id: Nullable(Uuid),
  adults: Nullable(Type.Integer()),
  children: Nullable(Type.Integer()),
  total_amount: Money,
  currency: Currency,
  notes: Nullable(Type.String()),
  source_updated_at: Nullable(Timestamp),
  holds_inventory: Type.Boolean(),
  version: Type.Integer(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export const BookingQuery = Type.Object(
  {
    ...PageQuery,
    property_id: Type.Optional(Uuid),
    status: Type.Optional(Status),
    updated_since: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
  },
  { additionalProperties: false },
);
