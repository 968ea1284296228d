import { SWEEPS } from './guest.erasure.repository.ts';

/**
 * Where a guest's personal data can be, column by column: every text, JSON and array column of the
 * schema is here, either handled by erasure or with the reason it holds none. A test compares this
 * with the database, so a new column must be placed here before it ships (docs/runbook.md,
 * "Personal data").
 */

/** Anonymised by their own step of the erasure. */
export const ERASED_COLUMNS: Record<string, string> = {
  'guest.first_name': 'set to null',
  'guest.last_name': 'set to null',
  'guest.full_name': 'set to null',
  'guest.email': 'set to null',
  'guest.phone': 'set to null',
  'guest_profile.first_name': 'set to null',
  'guest_profile.last_name': 'set to null',
  'guest_profile.full_name': 'set to null',
  'guest_profile.email': 'set to null',
  'guest_profile.phone': 'set to null',
  'guest_profile_key.key': "the profile's keys are deleted",
  'reservation.notes': "cleared on the guest's reservations (and scrubbed on others, below)",
  'ingestion_error.raw': 'a quarantined record holding a contact of the guest loses its payload',
  'ingestion_error.context': 'emptied with the payload',
  'ingestion_error.message': "the guest's values are replaced in it",
};

/** Scrubbed where they hold the guest's values, or wholly where they are about the guest. */
export const SWEPT_COLUMNS: string[] = SWEEPS.map((sweep) => `${sweep.table}.${sweep.column}`);

const groups: Array<{ why: string; columns: string[] }> = [
  {
    why: 'staff accounts and API keys, not guests: erasing a guest never changes who may sign in',
    columns: [
      'app_user.email',
      'app_user.full_name',
      'app_user.password_hash',
      'app_user.role',
      'api_key.name',
      'api_key.scopes',
    ],
  },
  {
    why: 'the hotels, their rooms and prices: configuration',
    columns: [
      'property.address',
      'property.code',
      'property.currency',
      'property.name',
      'property.status',
      'property.timezone',
      'room_type.code',
      'room_type.description',
      'room_type.name',
      'room.floor',
      'room.housekeeping_status',
      'room.number',
      'rate_plan.cancellation_policy',
      'rate_plan.code',
      'rate_plan.currency',
      'rate_plan.name',
      'rate_plan.offset_type',
    ],
  },
  {
    why: "a booking's codes, states, dates and money: kept, so that counts and revenue stay true",
    columns: [
      'reservation.confirmation_code',
      'reservation.currency',
      'reservation.external_id',
      'reservation.fee_currency',
      'reservation.fee_policy',
      'reservation.source',
      'reservation.status',
      'reservation_room.cancellation_policy',
      'reservation_room.nightly_prices',
      'inventory_hold.status',
      'inventory_ledger.field',
      'inventory_ledger.reason',
    ],
  },
  {
    why: "the PMS's view of a booking's rooms and its codes (names of rooms, rate plans, states), no person",
    columns: [
      'pms_booking.content_hash',
      'pms_booking.rate_plan_code',
      'pms_booking.room_number',
      'pms_booking.room_type_code',
      'pms_booking_room.external_id',
      'pms_booking_room.rate_plan_code',
      'pms_booking_room.room_key',
      'pms_booking_room.room_number',
      'pms_booking_room.room_type_code',
      'pms_booking_room.status',
      'pms_vanished_booking.action',
      'pms_vanished_booking.external_id',
      'pms_vanished_booking.status_before',
    ],
  },
  {
    why: 'PMS configs, connections, runs and fields: how to fetch, never what was fetched',
    columns: [
      'pms_config.checksum',
      'pms_config.description',
      'pms_config.document',
      'pms_config.origin',
      'pms_config.pms_type',
      'pms_config.version',
      'pms_connection.base_url',
      'pms_connection.cursor',
      'pms_connection.hotel_external_id',
      'pms_connection.last_run_status',
      'pms_connection.secret_names',
      'pms_connection.secret_origins',
      'pms_connection.value_maps',
      'pms_pending_ack.ack_key',
      'pms_pending_ack.scope',
      'pms_raw_field.path',
      'pms_raw_field.pms_type',
      'pms_raw_field.version',
      'sync_run.cursor_after',
      'sync_run.cursor_before',
      'sync_run.reconciliation',
      'sync_run.replay_filter',
      'sync_run.schema_drift',
      'sync_run.status',
      'sync_run.timings',
      'sync_run.trigger',
      'sync_run.warnings',
      'ingestion_error.error_type',
      'ingestion_error.external_id',
      'ingestion_error.field',
      'ingestion_error.replay_status',
      'ingestion_error.stage',
    ],
  },
  {
    why: 'names, kinds and states of events, lanes, sinks and webhooks; webhook answers are never kept',
    columns: [
      'outbox_event.type',
      'event_lane.lane_key',
      'event_lane.lease_owner',
      'event_lane.sink',
      'event_sink.name',
      'webhook_delivery.event_type',
      'webhook_delivery.response_body',
      'webhook_delivery.status',
      'webhook_delivery.trigger',
      'webhook_subscription.description',
      'webhook_subscription.disabled_reason',
      'webhook_subscription.event_types',
      'webhook_subscription.secret_encrypted',
      'webhook_subscription.url',
    ],
  },
  {
    why: 'who did what to which record: kept (the diff, above, loses the personal values)',
    columns: [
      'audit_log.action',
      'audit_log.actor_name',
      'audit_log.actor_role',
      'audit_log.entity_id',
      'audit_log.entity_type',
      'audit_log.request_id',
      'idempotency_key.key',
      'idempotency_key.request_hash',
      'guest_profile.merged_ids',
    ],
  },
  {
    why: 'the migrations applied',
    columns: ['schema_migration.name', 'schema_migration.timestamp', 'schema_migration_lock.id'],
  },
];

/** Columns that hold no guest's personal data, each with the reason. */
export const NOT_GUEST_DATA: Record<string, string> = Object.fromEntries(
  groups.flatMap((group) => group.columns.map((column) => [column, group.why])),
);
