/** The PMS config document (PMS_CONFIG.md, version 1) as TypeScript types. */

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
] as const;
export type CanonicalField = (typeof CANONICAL_FIELDS)[number];

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
] as const;
export type TransformName = (typeof TRANSFORM_NAMES)[number];

export type TransformSpec = TransformName | ({ name: TransformName } & Record<string, unknown>);

export type Scalar = string | number | boolean | null;

export interface FieldMapping {
  path?: string;
  template?: string;
  const?: Scalar;
  transform?: TransformSpec | TransformSpec[];
  default?: Scalar;
}

export type PaginationType = 'none' | 'page_number' | 'offset' | 'cursor' | 'link_header';

export interface Pagination {
  type: PaginationType;
  param?: string;
  start?: number;
  limit_param?: string;
  limit?: number;
  next_path?: string;
}

export type CursorFormat = 'iso8601' | 'epoch_seconds' | 'epoch_millis';

export interface SourceSpec {
  request: {
    method?: 'GET' | 'POST';
    path: string;
    query?: Record<string, string>;
    headers?: Record<string, string>;
    timeout_ms?: number;
  };
  records: string;
  pagination?: Pagination;
  incremental?: { cursor_path: string; cursor_format: CursorFormat; initial: string };
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
    fields?: Partial<Record<CanonicalField, FieldRule>>;
    business_rules?: BusinessRule[];
  };
  sanitization?: { trim_strings?: boolean; empty_to_null?: boolean; escape_html?: boolean };
}
