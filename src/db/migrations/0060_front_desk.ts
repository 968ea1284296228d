import { type Kysely, sql } from 'kysely';

// Issue #23, "front desk that is never wrong":
// - each property has a business date (the hotel's current trading day), rolled by the night audit;
//   a new property starts at its local today, whoever inserts it (a trigger, not the application);
// - a property may name a default rate plan, which prices rooms booked without one; the composite
//   foreign key keeps it one of the property's own plans;
// - rate plans may charge per extra adult / child above a base occupancy (all three or none);
// - a reservation room records whether it is complimentary (an explicit 0.00) and the cancellation
//   policy the guest booked under, so a later change of the plan does not change agreed terms;
// - a cancelled or no-show reservation records the fee it incurred, its currency and how it was computed.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- The application validates zones with the ICU database; one PostgreSQL's tzdata does not know
    -- must not fail an insert or this migration: such a hotel starts on the UTC date.
    CREATE FUNCTION property_local_today(tz text) RETURNS date LANGUAGE plpgsql STABLE AS $fn$
    BEGIN
      RETURN (now() AT TIME ZONE tz)::date;
    EXCEPTION WHEN invalid_parameter_value THEN
      RETURN (now() AT TIME ZONE 'UTC')::date;
    END
    $fn$;

    ALTER TABLE property ADD COLUMN business_date date, ADD COLUMN default_rate_plan_id uuid;
    UPDATE property SET business_date = property_local_today(timezone);
    ALTER TABLE property ALTER COLUMN business_date SET NOT NULL;

    CREATE FUNCTION property_business_date_init() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF NEW.business_date IS NULL THEN
        NEW.business_date := property_local_today(NEW.timezone);
      END IF;
      RETURN NEW;
    END
    $fn$;
    CREATE TRIGGER property_business_date_init BEFORE INSERT ON property
      FOR EACH ROW EXECUTE FUNCTION property_business_date_init();

    ALTER TABLE rate_plan ADD CONSTRAINT rate_plan_property_id_id_key UNIQUE (property_id, id);
    ALTER TABLE property ADD CONSTRAINT property_default_rate_plan_fkey
      FOREIGN KEY (id, default_rate_plan_id) REFERENCES rate_plan (property_id, id);
    CREATE INDEX property_default_rate_plan_idx ON property (default_rate_plan_id)
      WHERE default_rate_plan_id IS NOT NULL;

    ALTER TABLE rate_plan
      ADD COLUMN base_occupancy integer CHECK (base_occupancy BETWEEN 1 AND 100),
      ADD COLUMN extra_adult_amount numeric(12, 2) CHECK (extra_adult_amount >= 0),
      ADD COLUMN extra_child_amount numeric(12, 2) CHECK (extra_child_amount >= 0),
      ADD CONSTRAINT rate_plan_occupancy_pricing_complete CHECK (
        (base_occupancy IS NULL) = (extra_adult_amount IS NULL)
        AND (base_occupancy IS NULL) = (extra_child_amount IS NULL));

    ALTER TABLE reservation_room
      ADD COLUMN complimentary boolean NOT NULL DEFAULT false,
      ADD COLUMN cancellation_policy jsonb;

    ALTER TABLE reservation
      ADD COLUMN fee_amount numeric(12, 2) CHECK (fee_amount >= 0),
      ADD COLUMN fee_currency char(3),
      ADD COLUMN fee_policy jsonb,
      ADD CONSTRAINT reservation_fee_complete CHECK (
        (fee_amount IS NULL) = (fee_currency IS NULL) AND (fee_amount IS NULL) = (fee_policy IS NULL));

    -- Rooms booked before this migration keep the terms their plan has now (the nearest plan of
    -- the chain that has a policy: a derived plan without one follows its parent's).
    WITH RECURSIVE chain AS (
      SELECT id AS plan_id, id AS source_id, parent_rate_plan_id, cancellation_policy, 0 AS depth
      FROM rate_plan
      UNION ALL
      SELECT c.plan_id, p.id, p.parent_rate_plan_id, p.cancellation_policy, c.depth + 1
      FROM chain c JOIN rate_plan p ON p.id = c.parent_rate_plan_id
      WHERE c.cancellation_policy IS NULL AND c.depth < 5
    ),
    resolved AS (
      SELECT DISTINCT ON (plan_id) plan_id, source_id, cancellation_policy
      FROM chain WHERE cancellation_policy IS NOT NULL ORDER BY plan_id, depth
    )
    UPDATE reservation_room rr
    SET cancellation_policy = r.cancellation_policy || jsonb_build_object('rate_plan_id', r.source_id)
    FROM resolved r WHERE rr.rate_plan_id = r.plan_id;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE reservation DROP CONSTRAINT IF EXISTS reservation_fee_complete,
      DROP COLUMN IF EXISTS fee_amount, DROP COLUMN IF EXISTS fee_currency, DROP COLUMN IF EXISTS fee_policy;
    ALTER TABLE reservation_room DROP COLUMN IF EXISTS complimentary, DROP COLUMN IF EXISTS cancellation_policy;
    ALTER TABLE rate_plan DROP CONSTRAINT IF EXISTS rate_plan_occupancy_pricing_complete,
      DROP COLUMN IF EXISTS base_occupancy, DROP COLUMN IF EXISTS extra_adult_amount,
      DROP COLUMN IF EXISTS extra_child_amount;
    ALTER TABLE property DROP CONSTRAINT IF EXISTS property_default_rate_plan_fkey;
    DROP INDEX IF EXISTS property_default_rate_plan_idx;
    ALTER TABLE rate_plan DROP CONSTRAINT IF EXISTS rate_plan_property_id_id_key;
    DROP TRIGGER IF EXISTS property_business_date_init ON property;
    DROP FUNCTION IF EXISTS property_business_date_init();
    DROP FUNCTION IF EXISTS property_local_today(text);
    ALTER TABLE property DROP COLUMN IF EXISTS default_rate_plan_id, DROP COLUMN IF EXISTS business_date;
  `.execute(db);
}
