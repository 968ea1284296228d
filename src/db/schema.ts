import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Table types for Kysely. Dates (`date`) travel as 'YYYY-MM-DD' strings; numerics as decimal strings. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, never, never>;
type DateOnly = ColumnType<string, string, string>;
type Numeric = ColumnType<string, string | number, string | number>;
type Json<T = unknown> = ColumnType<T, string | T, string | T>;

export interface PropertyTable {
  id: Generated<string>;
  code: string;
  name: string;
  timezone: Generated<string>;
  currency: Generated<string>;
  status: Generated<'active' | 'inactive'>;
  address: Json<Record<string, unknown> | null> | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
  /** The hotel's trading day, rolled by the night audit (migration 0060); a trigger starts it at the local today. */
  business_date: ColumnType<string, string | undefined, string>;
  /** Prices rooms booked without a rate plan (migration 0060); one of the property's own plans. */
  default_rate_plan_id: string | null;
}

export interface RoomTypeTable {
  id: Generated<string>;
  property_id: string;
  code: string;
  name: string;
  description: string | null;
  total_units: number;
  max_occupancy: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

/** The single status rooms had before migration 0053; the API still reports it, derived (docs/api.md). */
export type RoomStatus = 'available' | 'occupied' | 'dirty' | 'out_of_order';

export type HousekeepingStatus = 'clean' | 'dirty' | 'inspected';

export interface RoomTable {
  id: Generated<string>;
  property_id: string;
  room_type_id: string;
  number: string;
  floor: string | null;
  /** Stored since migration 0053; occupancy and out of order are derived from stays and blocks. */
  housekeeping_status: Generated<HousekeepingStatus>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export type UserRole = 'SUPER_ADMIN' | 'PROPERTY_ADMIN' | 'STAFF';

export interface AppUserTable {
  id: Generated<string>;
  email: string;
  password_hash: string;
  role: UserRole;
  full_name: string | null;
  is_active: Generated<boolean>;
  /** Bumped by a new password or a deactivation (migration 0048): access tokens carrying an older one are refused. */
  token_version: Generated<number>;
  last_login_at: Date | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface UserPropertyTable {
  user_id: string;
  property_id: string;
}

export interface RefreshTokenTable {
  id: string;
  user_id: string;
  family_id: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
  created_at: CreatedAt;
}

export interface InventoryCalendarTable {
  property_id: string;
  room_type_id: string;
  date: DateOnly;
  total_units: number;
  booked_units: Generated<number>;
  held_units: Generated<number>;
  out_of_order_units: Generated<number>;
  overbooking_limit: Generated<number>;
  overbooked_units: Generated<number>;
  stop_sell: Generated<boolean>;
  updated_at: Timestamp;
}

export type LedgerField =
  | 'total_units'
  | 'booked_units'
  | 'held_units'
  | 'out_of_order_units'
  | 'overbooking_limit'
  | 'overbooked_units'
  | 'stop_sell';

export interface InventoryLedgerTable {
  id: Generated<string>;
  property_id: string;
  room_type_id: string;
  date: DateOnly;
  field: LedgerField;
  delta: number;
  reason: string;
  reservation_id: string | null;
  hold_id: string | null;
  sync_run_id: string | null;
  actor_id: string | null;
  created_at: CreatedAt;
}

export type HoldStatus = 'active' | 'confirmed' | 'released' | 'expired';

export interface InventoryHoldTable {
  id: Generated<string>;
  property_id: string;
  room_type_id: string;
  check_in: DateOnly;
  check_out: DateOnly;
  units: number;
  status: Generated<HoldStatus>;
  reference: string | null;
  expires_at: Date;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface RatePlanTable {
  id: Generated<string>;
  property_id: string;
  code: string;
  name: string;
  currency: string;
  parent_rate_plan_id: string | null;
  offset_type: 'percent' | 'amount' | null;
  offset_value: Numeric | null;
  cancellation_policy: Json<Record<string, unknown> | null> | null;
  is_active: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: Timestamp;
  /** Occupancy pricing (migration 0060): guests included in the nightly amount, and what each extra one costs. */
  base_occupancy: number | null;
  extra_adult_amount: Numeric | null;
  extra_child_amount: Numeric | null;
}

export interface DailyRateTable {
  property_id: string;
  rate_plan_id: string;
  room_type_id: string;
  date: DateOnly;
  amount: Numeric | null;
  min_stay: number | null;
  max_stay: number | null;
  closed_to_arrival: Generated<boolean>;
  closed_to_departure: Generated<boolean>;
  stop_sell: Generated<boolean>;
  updated_at: Timestamp;
}

export interface GuestTable {
  id: Generated<string>;
  property_id: string;
  first_name: string | null;
  last_name: string | null;
  full_name: string | null;
  email: string | null;
  phone: string | null;
  created_at: CreatedAt;
  /** The guest's profile across the group (migration 0090); set by a trigger, never by the app. */
  profile_id: ColumnType<string, never, string>;
  /** Set by an erasure (migration 0090); a trigger keeps an erased row's personal data erased. */
  erased_at: ColumnType<Date | null, never, Date | string | null>;
}

/** One guest across the hotel group (migration 0090): the per-booking guest rows link to it. */
export interface GuestProfileTable {
  id: Generated<string>;
  first_name: string | null;
  last_name: string | null;
  full_name: string | null;
  email: string | null;
  phone: string | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  updated_at: Timestamp;
  erased_at: Date | null;
  /** Profiles merged into this one, and those merged into them. */
  merged_ids: ColumnType<string[], string[] | undefined, string[]>;
}

/** A normalised e-mail or phone (`email:…`, `phone:…`) and the profile it belongs to. */
export interface GuestProfileKeyTable {
  key: string;
  profile_id: string;
}

export type ReservationStatus =
  | 'tentative'
  | 'confirmed'
  | 'checked_in'
  | 'checked_out'
  | 'cancelled'
  | 'no_show';

export interface ReservationTable {
  id: Generated<string>;
  property_id: string;
  confirmation_code: string;
  status: ReservationStatus;
  check_in: DateOnly;
  check_out: DateOnly;
  guest_id: string | null;
  source: Generated<string>;
  external_id: string | null;
  total_amount: Numeric;
  currency: string;
  notes: string | null;
  hold_id: string | null;
  source_updated_at: Date | null;
  version: Generated<number>;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
  cancelled_at: Date | null;
  /** The cancellation or no-show fee (migration 0060): amount, currency and how it was computed. */
  fee_amount: Numeric | null;
  fee_currency: string | null;
  fee_policy: Json<Record<string, unknown> | null> | null;
}

export interface ReservationRoomTable {
  id: Generated<string>;
  reservation_id: string;
  property_id: string;
  room_type_id: string;
  rate_plan_id: string | null;
  room_id: string | null;
  adults: Generated<number>;
  children: Generated<number>;
  nightly_prices: Json<Array<{ date: string; amount: string }>>;
  amount: Numeric;
  created_at: CreatedAt;
  /** Priced 0.00 on purpose (migration 0060), by an administrator. */
  complimentary: Generated<boolean>;
  /** The cancellation policy the room was booked under, with the plan it came from (migration 0060). */
  cancellation_policy: Json<Record<string, unknown> | null> | null;
  /** The reservation's stay while a room is assigned, kept by triggers (migration 0052); never written by the app. */
  stay: ColumnType<string | null, never, never>;
  /** Whether the assigned room is held (tentative, confirmed, checked in): the exclusion constraint's scope. */
  holds_room: ColumnType<boolean, never, never>;
}

export interface IdempotencyKeyTable {
  user_id: string;
  key: string;
  request_hash: string;
  response_status: number | null;
  response_body: Json<unknown> | null;
  created_at: CreatedAt;
  expires_at: Date;
}

export interface OutboxEventTable {
  seq: Generated<string>;
  id: string;
  property_id: string | null;
  type: string;
  envelope: Json<Record<string, unknown>>;
  created_at: CreatedAt;
  /** Set by the relay's sequencer in visibility order (migration 0030); null until sequenced. */
  position: Generated<number | null>;
}

export interface EventSequencerTable {
  id: Generated<number>;
  last_position: number;
}

export interface EventSinkTable {
  name: 'nats' | 'kafka';
  enabled: Generated<boolean>;
  registered_at: CreatedAt;
}

export interface EventLaneTable {
  sink: string;
  lane_key: string;
  property_id: string | null;
  delivered_position: number;
  head_position: number;
  active: Generated<boolean>;
  attempts: Generated<number>;
  failing_since: Date | null;
  next_attempt_at: Generated<Date>;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  last_error: string | null;
  updated_at: Timestamp;
}

export interface WebhookSubscriptionTable {
  id: Generated<string>;
  property_id: string;
  url: string;
  description: string | null;
  event_types: string[];
  secret_encrypted: string;
  enabled: Generated<boolean>;
  disabled_reason: string | null;
  disabled_at: Date | null;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface WebhookDeliveryTable {
  id: Generated<string>;
  subscription_id: string;
  property_id: string;
  event_id: string;
  event_type: string;
  attempt: number;
  trigger: 'automatic' | 'manual';
  status: 'succeeded' | 'failed';
  response_status: number | null;
  /** Always NULL since migration 0050 (answers are not kept); left for the previous release's nodes. */
  response_body: string | null;
  error: string | null;
  duration_ms: number;
  created_at: CreatedAt;
}

export interface AuditLogTable {
  id: Generated<string>;
  property_id: string | null;
  actor_id: string | null;
  actor_role: string | null;
  action: string;
  entity_type: string;
  entity_id: string | null;
  diff: Json<Record<string, unknown> | null> | null;
  request_id: string | null;
  created_at: CreatedAt;
  /** The API key's name when an API key wrote the row (migration 0100, filled by a trigger). */
  actor_name: ColumnType<string | null, string | null | undefined, never>;
}

export interface PmsConfigTable {
  id: Generated<string>;
  pms_type: string;
  version: string;
  description: string | null;
  document: Json<Record<string, unknown>>;
  checksum: string;
  origin: Generated<'upload' | 'shipped'>;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface PmsConnectionTable {
  id: Generated<string>;
  property_id: string;
  config_id: string;
  base_url: string;
  hotel_external_id: string;
  secrets_ciphertext: Buffer | null;
  secret_names: Generated<string[]>;
  schedule_seconds: Generated<number>;
  cursor: string | null;
  enabled: Generated<boolean>;
  next_run_at: Timestamp;
  last_run_id: string | null;
  last_run_status: string | null;
  last_run_at: Date | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
  /** The hotel's own value maps, by name (migration 0080): PMS value → our value, for `value_map`. */
  value_maps: ColumnType<Record<string, Record<string, string>>, string | undefined, string>;
  /** Origins the secrets were given for besides base_url's (migration 0070); null: base_url's only. */
  secret_origins: string[] | null;
}

/** A queue acknowledgement committed but not yet accepted by the PMS (migration 0070). */
export interface PmsPendingAckTable {
  connection_id: string;
  ack_key: string;
  items: Json<Array<Record<string, string | number | boolean | null>>>;
  scope: string;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: CreatedAt;
}

export type SyncRunStatus = 'queued' | 'running' | 'succeeded' | 'partial' | 'failed';

export interface SyncRunTable {
  id: Generated<string>;
  property_id: string;
  connection_id: string;
  config_id: string;
  trigger: 'schedule' | 'manual' | 'replay';
  status: Generated<SyncRunStatus>;
  queued_at: Timestamp;
  started_at: Date | null;
  finished_at: Date | null;
  heartbeat_at: Date | null;
  pages: Generated<number>;
  fetched: Generated<number>;
  created: Generated<number>;
  updated: Generated<number>;
  unchanged: Generated<number>;
  quarantined: Generated<number>;
  cursor_before: string | null;
  cursor_after: string | null;
  schema_drift: Json<{ new_fields: string[]; vanished_fields: string[] } | null> | null;
  warnings: Json<Record<string, unknown> | null> | null;
  timings: Json<Record<string, number> | null> | null;
  error: string | null;
  requested_by: string | null;
  replay_filter: Json<{ sync_run_id?: string; error_ids?: string[] } | null> | null;
  /** A run that reads every booking from the initial cursor (migration 0080), and may reconcile. */
  full_listing: Generated<boolean>;
  reconciliation: Json<Record<string, unknown> | null> | null;
}

export interface IngestionErrorTable {
  id: Generated<string>;
  sync_run_id: string;
  property_id: string;
  stage: string;
  error_type: string;
  field: string | null;
  message: string;
  external_id: string | null;
  raw: Json<unknown>;
  replay_status: Generated<'pending' | 'ingested' | 'failed'>;
  replayed_at: Date | null;
  replay_run_id: string | null;
  created_at: CreatedAt;
  /** What the record's joins matched on its page (migration 0080), so a replay maps it the same way. */
  context: Json<Record<string, unknown> | null> | null;
}

export interface PmsRawFieldTable {
  pms_type: string;
  version: string;
  path: string;
  always_present: boolean;
  first_seen_at: Timestamp;
  last_seen_at: Timestamp;
  last_seen_run_id: string | null;
}

export interface PmsBookingTable {
  reservation_id: string;
  property_id: string;
  connection_id: string | null;
  room_type_code: string | null;
  room_number: string | null;
  adults: number | null;
  children: number | null;
  content_hash: string;
  last_sync_run_id: string | null;
  updated_at: Timestamp;
  rate_plan_code: string | null;
}

/** The PMS's view of one room of an imported booking (migration 0080). */
export interface PmsBookingRoomTable {
  reservation_id: string;
  room_key: string;
  property_id: string;
  position: number;
  external_id: string | null;
  status: ReservationStatus | null;
  check_in: DateOnly | null;
  check_out: DateOnly | null;
  room_type_code: string | null;
  room_number: string | null;
  rate_plan_code: string | null;
  adults: number | null;
  children: number | null;
  amount: Numeric | null;
  source_updated_at: Date | null;
  reservation_room_id: string | null;
}

/** A booking a full listing no longer returned (migration 0080). */
export interface PmsVanishedBookingTable {
  id: Generated<string>;
  sync_run_id: string;
  property_id: string;
  reservation_id: string;
  external_id: string;
  check_in: DateOnly;
  check_out: DateOnly;
  status_before: string;
  action: 'reported' | 'cancelled';
  created_at: CreatedAt;
}

/** A room out of order over [start_date, end_date), counted in out_of_order_units (migration 0053). */
export interface RoomOutOfOrderTable {
  id: Generated<string>;
  property_id: string;
  room_id: string;
  room_type_id: string;
  start_date: DateOnly;
  end_date: DateOnly;
  reason: string | null;
  created_by: string | null;
  created_at: CreatedAt;
  returned_at: Date | null;
  returned_by: string | null;
}

export type ApiKeyScope = 'search' | 'book' | 'reservations:read' | 'events';

/** A partner's API key (migration 0100): only the SHA-256 of the key is stored. */
export interface ApiKeyTable {
  id: Generated<string>;
  name: string;
  scopes: ApiKeyScope[];
  all_properties: Generated<boolean>;
  secret_hash: Buffer;
  /** The hash before the last rotation, valid until previous_secret_expires_at (a grace period). */
  previous_secret_hash: Buffer | null;
  previous_secret_expires_at: Date | null;
  rate_limit_per_minute: Generated<number>;
  expires_at: Date | null;
  revoked_at: Date | null;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
  rotated_at: Date | null;
}

export interface ApiKeyPropertyTable {
  api_key_id: string;
  property_id: string;
}

/** Calls of a key per minute, flushed from each API process's memory (docs/api.md). */
export interface ApiKeyUsageTable {
  api_key_id: string;
  minute: Date;
  requests: number;
  errors: number;
  last_at: Date;
}

export interface Database {
  property: PropertyTable;
  room_type: RoomTypeTable;
  room: RoomTable;
  app_user: AppUserTable;
  user_property: UserPropertyTable;
  refresh_token: RefreshTokenTable;
  inventory_calendar: InventoryCalendarTable;
  inventory_ledger: InventoryLedgerTable;
  inventory_hold: InventoryHoldTable;
  rate_plan: RatePlanTable;
  daily_rate: DailyRateTable;
  guest: GuestTable;
  guest_profile: GuestProfileTable;
  guest_profile_key: GuestProfileKeyTable;
  reservation: ReservationTable;
  reservation_room: ReservationRoomTable;
  idempotency_key: IdempotencyKeyTable;
  outbox_event: OutboxEventTable;
  audit_log: AuditLogTable;
  event_sequencer: EventSequencerTable;
  event_sink: EventSinkTable;
  event_lane: EventLaneTable;
  webhook_subscription: WebhookSubscriptionTable;
  webhook_delivery: WebhookDeliveryTable;
  pms_config: PmsConfigTable;
  pms_connection: PmsConnectionTable;
  pms_pending_ack: PmsPendingAckTable;
  sync_run: SyncRunTable;
  ingestion_error: IngestionErrorTable;
  pms_raw_field: PmsRawFieldTable;
  pms_booking: PmsBookingTable;
  pms_booking_room: PmsBookingRoomTable;
  pms_vanished_booking: PmsVanishedBookingTable;
  room_out_of_order: RoomOutOfOrderTable;
  api_key: ApiKeyTable;
  api_key_property: ApiKeyPropertyTable;
  api_key_usage: ApiKeyUsageTable;
}

export type Property = Selectable<PropertyTable>;
export type NewProperty = Insertable<PropertyTable>;
export type PropertyUpdate = Updateable<PropertyTable>;
export type RoomType = Selectable<RoomTypeTable>;
export type Room = Selectable<RoomTable>;
export type AppUser = Selectable<AppUserTable>;
export type InventoryNight = Selectable<InventoryCalendarTable>;
export type Reservation = Selectable<ReservationTable>;
