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

const CanonicalRoom = Type.Object({
  external_id: Nullable(Type.String()),
  status: Nullable(Status),
  room_type_code: Nullable(Type.String()),
  room_number: Nullable(Type.String()),
  rate_plan_code: Nullable(Type.String()),
  adults: Nullable(Type.Integer()),
  children: Nullable(Type.Integer()),
  amount: Nullable(Type.String()),
  check_in: Nullable(DateString),
  check_out: Nullable(DateString),
});

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
  rate_plan_code: Type.Optional(Nullable(Type.String())),
  rooms: Type.Optional(
    Type.Array(CanonicalRoom, { description: 'Every room (config format v2 with a rooms block)' }),
  ),
  grouped: Type.Optional(
    Type.Boolean({ description: "One room of a group: the upsert assembles the group's rooms" }),
  ),
});

export const PreviewBody = Type.Object(
  {
    config: ConfigDocumentBody,
    records: Type.Optional(
      Type.Array(Type.Unknown(), { minItems: 1, maxItems: 1000, description: 'Sample raw records' }),
    ),
    response_body: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1_000_000,
        description:
          "A sample answer of the PMS, as it sends it (JSON or XML text, per the config's source.response): " +
          'its records are extracted as the connector extracts them, then mapped. Give this or records.',
      }),
    ),
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
  records: Type.Optional(
    Type.Array(Type.Unknown(), {
      description: 'With response_body: the raw records the connector extracts from it (XML read as JSON)',
    }),
  ),
  mapped: Type.Integer(),
  failed: Type.Integer(),
  results: Type.Array(
    Type.Object({ index: Type.Integer(), booking: Nullable(CanonicalBooking), error: Nullable(RecordError) }),
  ),
  warnings: Type.Array(Type.String()),
});

const SecretName = '^[A-Za-z0-9_]{1,100}$';
const ValueMapName = '^[a-z][a-z0-9_]{0,49}$';
// A record's key schema becomes patternProperties: additionalProperties false refuses other keys.
const ValueMapKey = Type.String({ pattern: '^[^\\u0000-\\u001f]{1,200}$' });
const ValueMapValue = Type.String({ minLength: 1, maxLength: 200 });
export const ValueMaps = Type.Record(
  Type.String({ pattern: ValueMapName }),
  Type.Record(ValueMapKey, ValueMapValue, { maxProperties: 5000, additionalProperties: false }),
  {
    maxProperties: 20,
    additionalProperties: false,
    description:
      "The hotel's value maps by name (e.g. room_types): the PMS's value → this hotel's (a room type code, a " +
      "rate plan code, a status), used by the config's value_map transform",
  },
);
/** JSON Merge Patch (RFC 7396) of the value maps: null removes an entry, or a whole map. */
export const ValueMapsPatch = Type.Record(
  Type.String({ pattern: ValueMapName }),
  Nullable(
    Type.Record(ValueMapKey, Nullable(ValueMapValue), { maxProperties: 5000, additionalProperties: false }),
  ),
  {
    maxProperties: 20,
    additionalProperties: false,
    description:
      'JSON Merge Patch (RFC 7396) of the value maps: an entry set to null is removed, a map set to null is removed',
  },
);
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
    value_maps: Type.Optional(ValueMaps),
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
  value_maps: ValueMaps,
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
    full: Type.Optional(
      Type.Boolean({
        description:
          "Read every booking from the initial cursor; with the config's reconciliation, report (or cancel) the " +
          'bookings the PMS no longer lists',
      }),
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
  full_listing: Type.Boolean({ description: 'Read every booking from the initial cursor' }),
  reconciliation: Nullable(
    Type.Object({
      window: Type.Object({ from: DateString, to: DateString }),
      action: Type.Union([Type.Literal('report'), Type.Literal('cancel')]),
      checked: Type.Integer(),
      vanished: Type.Integer(),
      cancelled: Type.Integer(),
      held_back: Nullable(Type.String()),
    }),
  ),
});
export const RunQuery = Type.Object(
  { ...PageQuery, property_id: Type.Optional(Uuid), status: Type.Optional(RunStatus) },
  { additionalProperties: false },
);

export const VanishedBooking = Type.Object({
  id: Uuid,
  sync_run_id: Uuid,
  property_id: Uuid,
  reservation_id: Uuid,
  external_id: Type.String(),
  check_in: DateString,
  check_out: DateString,
  status_before: Type.String(),
  action: Type.Union([Type.Literal('reported'), Type.Literal('cancelled')]),
  created_at: Timestamp,
});
export const VanishedQuery = Type.Object(
  { ...PageQuery, sync_run_id: Type.Optional(Uuid), property_id: Type.Optional(Uuid) },
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
  rate_plan_code: Nullable(Type.String()),
  rooms: Type.Array(
    Type.Object({
      external_id: Nullable(Type.String()),
      status: Nullable(Status),
      room_type_code: Nullable(Type.String()),
      room_type_id: Nullable(Uuid),
      room_number: Nullable(Type.String()),
      room_id: Nullable(Uuid),
      rate_plan_code: Nullable(Type.String()),
      adults: Nullable(Type.Integer()),
      children: Nullable(Type.Integer()),
      amount: Nullable(Money),
      holds_inventory: Type.Boolean(),
    }),
    {
      description:
        "The PMS's rooms of the booking, in its order; a room that holds nights has a room_type_id",
    },
  ),
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
