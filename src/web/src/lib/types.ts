/** Wire shapes of the API (snake_case), as DESIGN.md §5 and the route schemas define them. */

export type Role = 'SUPER_ADMIN' | 'PROPERTY_ADMIN' | 'STAFF';

export interface User {
  id: string;
  email: string;
  role: Role;
  full_name: string | null;
  is_active: boolean;
  property_ids: string[];
  last_login_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface Address {
  line1?: string;
  line2?: string;
  city?: string;
  region?: string;
  postal_code?: string;
  country?: string;
}

export interface Property {
  id: string;
  code: string;
  name: string;
  timezone: string;
  currency: string;
  status: 'active' | 'inactive';
  address: Address | null;
  /** The hotel's trading day, rolled by the night audit. */
  business_date: string;
  default_rate_plan_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface RoomType {
  id: string;
  property_id: string;
  code: string;
  name: string;
  description: string | null;
  total_units: number;
  max_occupancy: number;
}

export type RoomStatus = 'available' | 'occupied' | 'dirty' | 'out_of_order';

export type HousekeepingStatus = 'clean' | 'dirty' | 'inspected';

/** A room out of order over [start_date, end_date): counted in the calendar's out_of_order_units. */
export interface OutOfOrderBlock {
  id: string;
  room_id: string;
  room_type_id: string;
  start_date: string;
  end_date: string;
  reason: string | null;
  created_by: string | null;
  created_at: string;
  returned_at: string | null;
}

export interface Room {
  id: string;
  property_id: string;
  room_type_id: string;
  number: string;
  floor: string | null;
  /** Summary of today: out of order, else occupied, else dirty, else available. */
  status: RoomStatus;
  housekeeping_status: HousekeepingStatus;
  occupancy: 'vacant' | 'occupied';
  occupied_by: {
    reservation_id: string;
    confirmation_code: string;
    check_in: string;
    check_out: string;
  } | null;
  out_of_order: OutOfOrderBlock | null;
}

export interface CalendarNight {
  room_type_id: string;
  date: string;
  total_units: number;
  booked_units: number;
  held_units: number;
  out_of_order_units: number;
  overbooking_limit: number;
  overbooked_units: number;
  available_units: number;
  stop_sell: boolean;
}

export type NightReason =
  | 'SOLD_OUT'
  | 'STOP_SELL'
  | 'NOT_LOADED'
  | 'CLOSED_TO_ARRIVAL'
  | 'CLOSED_TO_DEPARTURE'
  | 'MIN_STAY'
  | 'MAX_STAY'
  | 'NO_RATE';

export interface CheckResult {
  room_type_id: string;
  check_in: string;
  check_out: string;
  units: number;
  available: boolean;
  nights: Array<CalendarNight & { bookable: boolean; reasons: NightReason[] }>;
  quote?: {
    rate_plan_id: string;
    currency: string;
    units: number;
    total: string | null;
    nightly: Array<{ date: string; amount: string | null }>;
  };
}

export type ReservationStatus =
  | 'tentative'
  | 'confirmed'
  | 'checked_in'
  | 'checked_out'
  | 'cancelled'
  | 'no_show';

export interface Guest {
  id: string;
  first_name: string | null;
  last_name: string | null;
  full_name: string | null;
  email: string | null;
  phone: string | null;
}

export interface ReservationRoom {
  id: string;
  room_type_id: string;
  rate_plan_id: string | null;
  room_id: string | null;
  adults: number;
  children: number;
  amount: string;
  nightly_prices: Array<{ date: string; amount: string }>;
  complimentary: boolean;
}

export type Penalty = 'none' | 'first_night' | 'full_stay' | 'percent';

/** What cancelling or the no-show cost, per room and summed. */
export interface ReservationFee {
  kind: 'cancellation' | 'no_show';
  amount: string;
  currency: string;
  computed_at: string;
  rooms: Array<{
    reservation_room_id: string;
    rate_plan_id: string | null;
    policy_rate_plan_id: string | null;
    policy: Record<string, unknown> | null;
    free_until: string | null;
    penalty: Penalty | null;
    amount: string;
  }>;
}

export interface NightAuditResult {
  property_id: string;
  code: string;
  business_date_before: string;
  business_date: string;
  rolled: boolean;
  no_shows: Array<{
    reservation_id: string;
    confirmation_code: string;
    fee_amount: string;
    fee_currency: string;
  }>;
  nights_created: number;
}

export interface Reservation {
  id: string;
  property_id: string;
  confirmation_code: string;
  status: ReservationStatus;
  check_in: string;
  check_out: string;
  nights: number;
  source: string;
  external_id: string | null;
  total_amount: string;
  currency: string;
  notes: string | null;
  version: number;
  guest: Guest | null;
  rooms: ReservationRoom[];
  created_at: string;
  updated_at: string;
  cancelled_at: string | null;
  fee: ReservationFee | null;
}

export interface RatePlan {
  id: string;
  property_id: string;
  code: string;
  name: string;
  currency: string;
  parent_rate_plan_id: string | null;
  offset_type: 'percent' | 'amount' | null;
  offset_value: string | null;
  cancellation_policy: {
    free_until_days: number | null;
    penalty: 'none' | 'first_night' | 'full_stay' | 'percent';
    penalty_percent?: string;
    description?: string;
  } | null;
  is_active: boolean;
}

export interface AuditEntry {
  id: string;
  property_id: string | null;
  actor_id: string | null;
  actor_role: string | null;
  /** The API key's name when a partner's key made the change. */
  actor_name?: string | null;
  action: string;
  entity_type: string;
  entity_id: string | null;
  diff: Record<string, unknown> | null;
  request_id: string | null;
  created_at: string;
}

export interface RateNight {
  date: string;
  amount: string | null;
  min_stay: number | null;
  max_stay: number | null;
  closed_to_arrival: boolean;
  closed_to_departure: boolean;
  stop_sell: boolean;
  restrictions_inherited: boolean;
}

export interface RatesGrid {
  property_id: string;
  start: string;
  end: string;
  rate_plans: RatePlan[];
  room_types: Array<{ id: string; code: string; name: string }>;
  results: Array<{
    rate_plan_id: string;
    room_type_id: string;
    currency: string;
    derived: boolean;
    nights: RateNight[];
  }>;
}

export interface Webhook {
  id: string;
  property_id: string;
  url: string;
  description: string | null;
  event_types: string[];
  enabled: boolean;
  disabled_reason: string | null;
  disabled_at: string | null;
  delivery: {
    failing_since: string | null;
    attempts: number;
    next_attempt_at: string | null;
    last_error: string | null;
  };
  created_at: string;
  updated_at: string;
  secret?: string;
}

export interface WebhookDelivery {
  id: string;
  subscription_id: string;
  event_id: string;
  event_type: string;
  attempt: number;
  trigger: 'automatic' | 'manual';
  status: 'succeeded' | 'failed';
  response_status: number | null;
  error: string | null;
  duration_ms: number;
  created_at: string;
}

export type ApiKeyScope = 'search' | 'book' | 'reservations:read' | 'events';

/** A partner's API key (docs/api.md, "Partner credentials"); `secret` only in the answer that made it. */
export interface ApiKey {
  id: string;
  name: string;
  key_prefix: string;
  scopes: ApiKeyScope[];
  all_properties: boolean;
  property_ids: string[];
  rate_limit_per_minute: number;
  expires_at: string | null;
  status: 'active' | 'expired' | 'revoked';
  revoked_at: string | null;
  rotated_at: string | null;
  previous_secret_expires_at: string | null;
  last_used_at: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  secret?: string;
}
