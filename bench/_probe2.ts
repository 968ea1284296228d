import { sql } from 'kysely';
import { seed, spreadStay } from './booking.ts';
import { freshDatabase } from './support.ts';
import { rangesOf } from '../src/modules/inventory/inventory.locking.ts';
const database = await freshDatabase('probe2');
const world = await seed(database, ['x']);
const stays = Array.from({ length: 60 }, () => ({ ...spreadStay(world), units: 1 }));
const ranges = rangesOf(stays);
const ids = ranges.map((r) => r.roomTypeId), starts = ranges.map((r) => r.start), ends = ranges.map((r) => r.end);
const show = (rows: any[]) => console.log(rows.map((r: any) => r['QUERY PLAN']).join('\n'));
show((await sql<any>`EXPLAIN ANALYZE SELECT c.* FROM unnest(${ids}::uuid[], ${starts}::date[], ${ends}::date[]) AS r(room_type_id, start_date, end_date)
  JOIN inventory_calendar c ON c.room_type_id = r.room_type_id AND c.date >= r.start_date AND c.date < r.end_date
  WHERE c.property_id = ${world.propertyId} ORDER BY c.room_type_id, c.date FOR UPDATE OF c`.execute(database.db)).rows);
const stays2 = Array.from({ length: 60 }, () => ({ ...spreadStay(world), units: 1 }));
const r2 = rangesOf(stays2);
await database.db.transaction().execute(async (tx) => {
  const n = (await sql<any>`SELECT c.ctid::text AS tid, c.* FROM unnest(${r2.map((r) => r.roomTypeId)}::uuid[], ${r2.map((r) => r.start)}::date[], ${r2.map((r) => r.end)}::date[]) AS r(room_type_id, start_date, end_date)
    JOIN inventory_calendar c ON c.room_type_id = r.room_type_id AND c.date >= r.start_date AND c.date < r.end_date
    ORDER BY c.room_type_id, c.date FOR UPDATE OF c`.execute(tx)).rows;
  show((await sql<any>`EXPLAIN ANALYZE UPDATE inventory_calendar AS c SET booked_units = v.booked_units
      FROM unnest(${n.map((x: any) => x.tid)}::tid[], ${n.map((x: any) => x.room_type_id)}::uuid[], ${n.map((x: any) => x.date)}::date[], ${n.map((x: any) => x.booked_units)}::int[]) AS v(tid, room_type_id, date, booked_units)
      WHERE c.ctid = v.tid AND c.room_type_id = v.room_type_id AND c.date = v.date`.execute(tx)).rows);
});
await database.close();
