/** The PMS config document (docs/pms-config.md, format version 2, a superset of version 1) as TypeScript types. */

export const CANONICAL_FIELDS = [
  'external_id',
  'status',
  'check_in',
  'check_out',
  'guest.first_name',
  'guest.last_name',
  'guest.full_name',
  'guest.email',
  'guest.phone',
  'room_type_code',
  'room_number',
  'adults',
  'children',
  'total_amount',
  'currency',
  'source_updated_at',
  'notes',
  'rate_plan_code',
] as const;
export type CanonicalField = (typeof CANONICAL_FIELDS)[number];

/** The fields of one room of a booking (v2 `rooms.field_mappings`). */
export const ROOM_FIELDS = [
  'external_id',
  'status',
  'room_type_code',
  'room_number',
  'rate_plan_code',
  'adults',
  'children',
  'amount',
  'check_in',
  'check_out',
] as const;
export type RoomField = (typeof ROOM_FIELDS)[number];

/** Booking-level fields that describe the room: with a `rooms` block they are read per room. */
export const ROOM_LEVEL_FIELDS: CanonicalField[] = [
  'room_type_code',
  'room_number',
  'rate_plan_code',
  'adults',
  'children',
];

export const CANONICAL_STATUSES = [
  'tentative',
  'confirmed',
  'checked_in',
  'checked_out',
  'cancelled',
  'no_show',
] as const;
export type CanonicalStatus = (typeof CANONICAL_STATUSES)[number];

/** Fields the ledger cannot store a booking without, required whatever the config says. */
export const LEDGER_REQUIRED: CanonicalField[] = ['external_id', 'status', 'check_in', 'check_out'];

/** Free-text fields that sanitisation escapes for HTML. */
export const FREE_TEXT_FIELDS: CanonicalField[] = [
  'guest.first_name',
  'guest.last_name',
  'guest.full_name',
  'notes',
];

export const TRANSFORM_NAMES = [
  'to_string',
  'to_int',
  'to_decimal',
  'minor_to_decimal',
  'trim',
  'lower',
  'upper',
  'parse_date',
  'parse_datetime',
  'map_status',
  'lookup',
  'split',
  'value_map',
  'local_date',
] as const;
export type TransformName = (typeof TRANSFORM_NAMES)[number];

export type TransformSpec = TransformName | ({ name: TransformName } & Record<string, unknown>);

export type Scalar = string | number | boolean | null;

export interface FieldMapping {
  /** What `path` and `template` read (v2): `record` (default), `room` (room mappings' default), or a join's name. */
  from?: string;
  path?: string;
  template?: string;
  const?: Scalar;
  transform?: TransformSpec | TransformSpec[];
  default?: Scalar;
}

/** A side list of the same page, matched to each record by key (v2 `joins`). */
export interface JoinSpec {
  /** JSONPath on the page body to the side list's items, e.g. `$.Customers[*]`. */
  items: string;
  /** JSONPath on a side item to its key, e.g. `$.Id`. */
  key: string;
  /** JSONPath on the record to the key it refers to, e.g. `$.CustomerId`. */
  on: string;
  /** A record whose key matches no item is quarantined (default: the joined fields read null). */
  required?: boolean;
}

/** Several rooms per booking (v2 `rooms`). */
export type RoomsSpec =
  | {
      mode: 'nested';
      path: string;
      field_mappings: Partial<Record<RoomField, FieldMapping>>;
      max_rooms?: number;
    }
  | { mode: 'grouped'; field_mappings: Partial<Record<RoomField, FieldMapping>> };

/** Bookings a full listing no longer returns (v2 `reconciliation`). */
export interface ReconciliationSpec {
  /** Arrivals from the hotel's today through this many days ahead are checked. */
  window_days: number;
  /** `report` lists them; `cancel` also cancels them (releasing their nights). */
  action: 'report' | 'cancel';
  /** Refuses to cancel more than this share of the window's bookings in one run (default 0.5). */
  max_share?: number;
}

export type PaginationType =
  | 'none'
  | 'page_number'
  | 'offset'
  | 'cursor'
  | 'link_header'
  | 'next_url'
  | 'queue';

export interface Pagination {
  type: PaginationType;
  /** The query parameter of the page number, offset or page cursor (v2: optional when a placeholder carries it). */
  param?: string;
  start?: number;
  limit_param?: string;
  /** Page size: offset steps; page_number and cursor stop at a shorter page (v2). */
  limit?: number;
  next_path?: string;
  /** JSONPath (answer) to the total number of records: paging stops once that many arrived (v2). */
  total_path?: string;
  /** JSONPath (answer) to the number of pages (page_number, v2). */
  pages_path?: string;
  /** JSONPath (answer) to a boolean: paging stops when it is false (v2). */
  more_path?: string;
}

export type CursorFormat = 'iso8601' | 'epoch_seconds' | 'epoch_millis' | 'datetime' | 'opaque';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A request body template (v2): exactly one of json, form or xml. */
export type BodySpec = { content_type?: string } & (
  | { json: unknown }
  | { form: Record<string, string> }
  | { xml: string }
);

export interface RequestSpec {
  method?: HttpMethod;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: BodySpec;
  timeout_ms?: number;
}

/** A request that may name an absolute URL on another declared origin (auth login, v2). */
export type AuthRequestSpec = Omit<RequestSpec, 'path'> & { path?: string; url?: string };

/** How answers are read (v2). */
export interface ResponseSpec {
  format?: 'json' | 'xml';
  xml?: { array_elements?: string[]; namespaces?: 'strip' | 'keep' };
  /** Predicates on an answer (2xx or not) that mean the PMS failed, with where its message is. */
  failure?: Array<{ path: string; equals?: Scalar; exists?: boolean; message_path?: string }>;
  /** What an answer without the records' list means: a failure (default) or an empty page. */
  missing_records?: 'error' | 'empty';
  /** Largest answer read, in bytes (default 64 MiB for JSON, 16 MiB for XML). */
  max_bytes?: number;
}

/** Credentials beyond static secrets in the request (v2). */
export type AuthSpec =
  | { type: 'basic'; username: string; password: string }
  | {
      type: 'oauth2_client_credentials';
      token_url: string;
      client_id: string;
      client_secret: string;
      client_auth?: 'basic' | 'body';
      scope?: string;
      params?: Record<string, string>;
      timeout_ms?: number;
    }
  | {
      type: 'login';
      request: AuthRequestSpec;
      response?: ResponseSpec;
      token_path: string;
      expires_in_path?: string;
      expires_at_path?: string;
      ttl_seconds?: number;
    };

export interface IncrementalSpec {
  /** JSONPath into a record (or, with cursor_source `response`, into an answer); not with `window`. */
  cursor_path?: string;
  cursor_format: CursorFormat;
  /** Luxon tokens of a `datetime` cursor, e.g. `yyyy-MM-dd HH:mm:ss` (v2). */
  pattern?: string;
  /** IANA zone of `datetime` cursors and of ISO values without an offset (v2; default UTC). */
  timezone?: string;
  initial: string;
  cursor_source?: 'record' | 'response';
  /** Fetch from the cursor to now in spans of at most `max_days`; the cursor moves per committed span (v2). */
  window?: { max_days: number };
}

/** Acknowledgements of a queue, sent after what was read is committed (v2). */
export interface AckSpec {
  per: 'record' | 'page';
  /** Name → JSONPath into each record; used as `{ack.NAME}`. */
  values: Record<string, string>;
  request: RequestSpec;
  /** Per page: a template rendered for each record, inserted where the body says `{ack.each}`. */
  each?: unknown;
  response?: ResponseSpec;
}

export interface SourceSpec {
  request: RequestSpec;
  auth?: AuthSpec;
  response?: ResponseSpec;
  records: string;
  pagination?: Pagination;
  incremental?: IncrementalSpec;
  ack?: AckSpec;
  retry?: { max_attempts?: number; backoff_ms?: number; on_status?: number[] };
  rate_limit?: { requests_per_second: number };
}

export type FieldRuleType = 'string' | 'integer' | 'decimal' | 'date' | 'boolean';

export interface FieldRule {
  type?: FieldRuleType;
  min?: number;
  max?: number;
  min_length?: number;
  max_length?: number;
  pattern?: string;
  enum?: Scalar[];
  format?: 'email' | 'phone';
}

export type BusinessRule =
  | { rule: 'check_out_after_check_in' }
  | { rule: 'max_stay_nights'; value: number }
  | { rule: 'min_stay_nights'; value: number }
  | { rule: 'not_before'; field: string; date: string }
  | { rule: 'room_type_known' };

export interface PmsConfigDocument {
  $schema?: string;
  pms_type: string;
  version: string;
  description?: string;
  source: SourceSpec;
  raw_schema?: Record<string, unknown>;
  field_mappings: Partial<Record<CanonicalField, FieldMapping>>;
  status_mappings?: Record<string, CanonicalStatus>;
  validation_rules?: {
    required?: CanonicalField[];
    /** Keyed by canonical field, or `rooms.<room field>` for every room (v2). */
    fields?: Partial<Record<CanonicalField | `rooms.${RoomField}`, FieldRule>>;
    business_rules?: BusinessRule[];
  };
  sanitization?: { trim_strings?: boolean; empty_to_null?: boolean; escape_html?: boolean };
  joins?: Record<string, JoinSpec>;
  rooms?: RoomsSpec;
  reconciliation?: ReconciliationSpec;
}
