import { type Kysely, sql } from 'kysely';

// Rates: database guards for what the rates service already checks, so no other writer can break
// them, and the indexes that deleting a rate plan needs (its foreign keys are ON DELETE RESTRICT).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE rate_plan
      ADD CONSTRAINT rate_plan_offset_complete CHECK ((offset_type IS NULL) = (offset_value IS NULL)),
      ADD CONSTRAINT rate_plan_not_own_parent CHECK (parent_rate_plan_id IS DISTINCT FROM id),
      ADD CONSTRAINT rate_plan_property_id_key UNIQUE (property_id, id);

    -- A parent plan always belongs to the same property (MATCH SIMPLE: unchecked for base plans).
    ALTER TABLE rate_plan
      ADD CONSTRAINT rate_plan_parent_same_property FOREIGN KEY (property_id, parent_rate_plan_id)
        REFERENCES rate_plan (property_id, id) ON DELETE RESTRICT;
    CREATE INDEX rate_plan_parent_idx ON rate_plan (parent_rate_plan_id)
      WHERE parent_rate_plan_id IS NOT NULL;

    -- A night's plan and room type belong to the same property as the night itself.
    ALTER TABLE daily_rate
      ADD CONSTRAINT daily_rate_plan_same_property FOREIGN KEY (property_id, rate_plan_id)
        REFERENCES rate_plan (property_id, id) ON DELETE CASCADE,
      ADD CONSTRAINT daily_rate_stay_bounds
        CHECK (min_stay IS NULL OR max_stay IS NULL OR min_stay <= max_stay);

    -- Refusing to delete a plan that reservations use must not scan every reservation room.
    CREATE INDEX reservation_room_rate_plan_id_idx ON reservation_room (rate_plan_id)
      WHERE rate_plan_id IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS reservation_room_rate_plan_id_idx;
    ALTER TABLE daily_rate
      DROP CONSTRAINT IF EXISTS daily_rate_stay_bounds,
      DROP CONSTRAINT IF EXISTS daily_rate_plan_same_property;
    DROP INDEX IF EXISTS rate_plan_parent_idx;
    ALTER TABLE rate_plan
      DROP CONSTRAINT IF EXISTS rate_plan_parent_same_property,
      DROP CONSTRAINT IF EXISTS rate_plan_property_id_key,
      DROP CONSTRAINT IF EXISTS rate_plan_not_own_parent,
      DROP CONSTRAINT IF EXISTS rate_plan_offset_complete;
  `.execute(db);
}
