import { sql } from 'kysely';
import { freshDatabase } from './support.ts';
import { seed } from './booking.ts';
const database = await freshDatabase('probe3');
const world = await seed(database, ['x']);
const rt = world.spread[5]!;
const plan = await sql<any>`EXPLAIN ANALYZE SELECT rt.property_id, to_char(d, 'YYYY-MM-DD') AS date, c.room_type_id IS NOT NULL AS loaded,
      coalesce(c.total_units, 0) AS total_units
    FROM room_type rt
    CROSS JOIN generate_series(${'2031-02-01'}::timestamp, ${'2031-03-02'}::timestamp - interval '1 day', interval '1 day') AS d
    LEFT JOIN (SELECT * FROM inventory_calendar WHERE room_type_id = ${rt} AND date >= ${'2031-02-01'}::date AND date < ${'2031-03-02'}::date) c ON c.date = d::date
    WHERE rt.id = ${rt}
    ORDER BY d`.execute(database.db);
console.log(plan.rows.map((r: any) => r['QUERY PLAN']).join('\n'));
await database.close();
