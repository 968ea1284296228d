/**
 * Ingestion benchmark (issue 5): bookings per second from the PMS simulator over HTTP through the
 * whole pipeline (fetch, raw schema, mapping, sanitisation, rules, bulk upsert, calendar through
 * the inventory service, events, quarantine) into PostgreSQL, for 100,000 bookings across 10
 * hotels in three dialects; then the same rows (guests, reservations, rooms, PMS details) loaded
 * by raw COPY into the same tables as the limit, and the ratio. Then multi-room bookings (config
 * format v2, 1 to 4 rooms each) through the upsert alone, against a COPY of the same rows.
 *
 *   npx tsx bench/ingest.ts        (INGEST_HOTELS=10 INGEST_BOOKINGS=10000 INGEST_ROOMS_BOOKINGS=20000 by default)
 *
 * Uses DATABASE_URL's server when set, else an embedded PostgreSQL; always a fresh database.
 */

import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { sql } from 'kysely';
import pg from 'pg';
import { parseEgressPolicy } from '../src/app/egress.ts';
import type { Db } from '../src/db/database.ts';
import { loadShippedConfigs } from '../src/modules/integrations/config/config.service.ts';
import { createConnectionService } from '../src/modules/integrations/connections/connection.service.ts';
import { SHIPPED_CONFIGS_DIR } from '../src/modules/integrations/integrations.plugin.ts';
import type { CanonicalBooking, CanonicalRoom } from '../src/modules/integrations/pipeline/canonical.ts';
import { DIALECT_CONFIG, type DialectName } from '../src/modules/integrations/simulator/server.ts';
import { writeBatch } from '../src/modules/integrations/sync/ledger-batch.ts';
import { hotelLookups } from '../src/modules/integrations/sync/lookup.repository.ts';
import { createSyncService } from '../src/modules/integrations/sync/sync.service.ts';
import { addDays } from '../src/modules/inventory/inventory.dates.ts';
import { createMissingNights } from '../src/modules/inventory/inventory.repository.ts';
import { applyImportedChanges } from '../src/modules/inventory/inventory.service.ts';
import { atLeast, type Figure, freshDatabase } from './support.ts';

const DIALECT_ROTATION: DialectName[] = ['acme', 'flatline', 'quickstay'];
const BASE_DATE = '2031-03-01';
const SECRETS_KEY = 'b'.repeat(64);

export interface IngestBenchOptions {
  hotels?: number;
  bookingsPerHotel?: number;
  /** Hotels synced at once. */
  concurrency?: number;
  /** Records per upsert transaction. */
  batchSize?: number;
  badRatio?: number;
  log?: (line: string) => void;
}

export interface IngestBenchReport {
  figures: Figure[];
  bookings: number;
  pipelineSeconds: number;
  copySeconds: number;
  /** Where the runs spent their time, summed over hotels (they overlap). */
  timings: Record<string, number>;
}

/** A COPY … FROM STDIN for pg's client, fed from memory (pg-copy-streams is not a dependency). */
class CopyIn {
  private settle!: { resolve: () => void; reject: (error: Error) => void };
  private failed = false;
  readonly done = new Promise<void>((resolve, reject) => {
    this.settle = { resolve, reject };
  });
  private readonly text: string;
  private readonly data: string;
  constructor(text: string, data: string) {
    this.text = text;
    this.data = data;
  }
  submit(connection: any) {
    connection.query(this.text);
  }
  handleCopyInResponse(connection: any) {
    const buffer = Buffer.from(this.data, 'utf8');
    for (let at = 0; at < buffer.length; at += 1 << 16)
      connection.sendCopyFromChunk(buffer.subarray(at, at + (1 << 16)));
    connection.endCopyFrom();
  }
  handleError(error: Error) {
    this.failed = true;
    this.settle.reject(error);
  }
  handleReadyForQuery() {
    if (!this.failed) this.settle.resolve();
  }
  handleCommandComplete() {}
  handleRowDescription() {}
  handleDataRow() {}
  handlePortalSuspended() {}
  handleEmptyQuery() {}
  handleCopyData() {}
}

const csvValue = (value: unknown): string => {
  if (value === null || value === undefined) return '';
  const text =
    value instanceof Date
      ? value.toISOString()
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  return `"${text.replaceAll('"', '""')}"`;
};

async function tableRows(db: Db, table: string, propertyIds: string[]) {
  const result = await sql<
    Record<string, unknown>
  >`SELECT * FROM ${sql.table(table)} WHERE property_id = ANY(${propertyIds}::uuid[])`.execute(db);
  return result.rows;
}

async function seedHotels(db: Db, count: number, prefix = 'ING') {
  const hotels = [];
  for (let i = 0; i < count; i++) {
    const property = await db
      .insertInto('property')
      .values({ code: `${prefix}${i}`, name: `Ingest hotel ${prefix}${i}`, timezone: 'UTC', currency: 'EUR' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const roomTypes = await db
      .insertInto('room_type')
      .values(
        ['STD', 'DBL', 'STE'].map((code) => ({
          property_id: property.id,
          code,
          name: code,
          total_units: 300,
        })),
      )
      .returning('id')
      .execute();
    // Calendars are loaded ahead in production (pms bootstrap-inventory), so they are here too.
    await db.transaction().execute((tx) =>
      createMissingNights(
        tx,
        property.id,
        roomTypes.map((rt) => ({
          roomTypeId: rt.id,
          start: addDays(BASE_DATE, -40),
          end: addDays(BASE_DATE, 400),
        })),
        null,
      ),
    );
    hotels.push({
      propertyId: property.id,
      dialect: DIALECT_ROTATION[i % DIALECT_ROTATION.length]!,
      code: `${prefix}${i}`,
    });
  }
  return hotels;
}

interface SimulatorThread {
  url: string;
  credentials: Record<DialectName, string>;
  bad: Record<string, number>;
  close(): Promise<void>;
}

async function startSimulatorThread(options: object, hotels: string[]): Promise<SimulatorThread> {
  const worker = new Worker(new URL('./ingest.simulator.ts', import.meta.url), {
    workerData: { options, hotels },
  });
  const ready = await new Promise<Omit<SimulatorThread, 'close'>>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    ...ready,
    close: async () => {
      const closed = new Promise((resolve) => worker.once('message', resolve));
      worker.postMessage('close');
      await closed;
      await worker.terminate();
    },
  };
}

const IMPORT_TABLES = [
  'guest',
  'reservation',
  'reservation_room',
  'pms_booking',
  'pms_booking_room',
] as const;

/**
 * The limit of an import: the very rows it wrote for these properties, read back, the tables
 * emptied, and loaded again by COPY in one transaction. Returns the COPY's seconds.
 */
async function copyAgain(
  database: { db: Db; url: string },
  ids: string[],
  log: (line: string) => void,
): Promise<number> {
  const rows = Object.fromEntries(
    await Promise.all(IMPORT_TABLES.map(async (t) => [t, await tableRows(database.db, t, ids)])),
  );
  const payloads = IMPORT_TABLES.flatMap((table) => {
    const list = rows[table] as Array<Record<string, unknown>>;
    if (list.length === 0) return [];
    const columns = Object.keys(list[0] ?? {});
    return {
      text: `COPY ${table} (${columns.join(', ')}) FROM STDIN WITH (FORMAT csv)`,
      data: `${list.map((row) => columns.map((c) => csvValue(row[c])).join(',')).join('\n')}\n`,
    };
  });
  // The bench database holds nothing else; emptying the tables gives COPY the same clean start
  // the pipeline had (a DELETE would leave dead index entries for every key COPY brings back).
  await sql`TRUNCATE pms_vanished_booking, pms_booking_room, reservation_room, pms_booking, reservation, guest`.execute(
    database.db,
  );
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const copyStarted = performance.now();
  try {
    await client.query('BEGIN');
    for (const payload of payloads) {
      const tableStarted = performance.now();
      const copy = new CopyIn(payload.text, payload.data);
      client.query(copy as never);
      await copy.done;
      if (process.env.INGEST_DEBUG)
        log(
          `  ${payload.text.split(' ')[1]}: ${Math.round(performance.now() - tableStarted)} ms, ${payload.data.length} bytes`,
        );
    }
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
  return (performance.now() - copyStarted) / 1000;
}

/** A deterministic multi-room booking (format v2, nested rooms): 1 to 4 rooms of the three types. */
function multiRoomBooking(n: number): CanonicalBooking {
  const rooms: CanonicalRoom[] = Array.from({ length: 1 + (n % 4) }, (_, i) => ({
    external_id: `R${n}-${i + 1}`,
    status: null,
    room_type_code: ['STD', 'DBL', 'STE'][(n + i) % 3]!,
    room_number: null,
    rate_plan_code: null,
    adults: 2,
    children: 0,
    amount: '120.00',
    check_in: null,
    check_out: null,
  }));
  const checkIn = addDays(BASE_DATE, n % 300);
  return {
    external_id: `MR${n}`,
    status: 'confirmed',
    check_in: checkIn,
    check_out: addDays(checkIn, 1 + (n % 5)),
    guest: {
      first_name: 'Guest',
      last_name: `No. ${n}`,
      full_name: `Guest No. ${n}`,
      email: null,
      phone: null,
    },
    room_type_code: rooms[0]!.room_type_code,
    room_number: null,
    adults: 2,
    children: 0,
    total_amount: (120 * rooms.length).toFixed(2),
    currency: 'EUR',
    source_updated_at: '2031-01-01T00:00:00.000Z',
    notes: null,
    rate_plan_code: null,
    rooms,
  };
}

/**
 * Multi-room bookings (format v2) through the upsert (ledger, rooms, PMS details, calendar,
 * events) in batches as a run writes them, without HTTP or mapping; then the same rows by COPY.
 */
async function multiRoomPhase(
  database: { db: Db; url: string },
  propertyId: string,
  connectionId: string,
  count: number,
  batchSize: number,
  log: (line: string) => void,
): Promise<Figure[]> {
  const bookings = Array.from({ length: count }, (_, n) => multiRoomBooking(n));
  const rooms = bookings.reduce((sum, b) => sum + b.rooms!.length, 0);
  const ctx = {
    runId: crypto.randomUUID(),
    propertyId,
    connectionId,
    source: 'pms:benchrooms',
    lookups: await hotelLookups(database.db, propertyId),
    applyImportedChanges,
  };
  log(
    `ingest: ${count.toLocaleString('en')} multi-room bookings (${rooms.toLocaleString('en')} rooms) through the upsert…`,
  );
  const started = performance.now();
  for (let i = 0; i < bookings.length; i += batchSize) {
    await database.db.transaction().execute((tx) => writeBatch(tx, ctx, bookings.slice(i, i + batchSize)));
  }
  const upsertSeconds = (performance.now() - started) / 1000;
  const copySeconds = await copyAgain(database, [propertyId], log);
  log(
    `ingest: multi-room upsert ${upsertSeconds.toFixed(2)} s, raw COPY of the same rows ${copySeconds.toFixed(2)} s`,
  );
  return [
    { bench: 'ingest', metric: 'rooms_upsert_bookings_per_s', value: count / upsertSeconds, unit: '/s' },
    { bench: 'ingest', metric: 'rooms_copy_bookings_per_s', value: count / copySeconds, unit: '/s' },
    {
      bench: 'ingest',
      metric: 'rooms_upsert_to_copy_ratio',
      value: copySeconds / upsertSeconds,
      unit: 'ratio',
    },
    { bench: 'ingest', metric: 'rooms_per_booking', value: rooms / count, unit: 'rooms' },
  ];
}

export async function runIngestBench(options: IngestBenchOptions = {}): Promise<IngestBenchReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const hotelCount = options.hotels ?? Number(process.env.INGEST_HOTELS ?? 10);
  const perHotel = options.bookingsPerHotel ?? Number(process.env.INGEST_BOOKINGS ?? 10_000);
  const concurrency = options.concurrency ?? Number(process.env.INGEST_CONCURRENCY ?? 4);
  const batchSize = options.batchSize ?? Number(process.env.INGEST_BATCH ?? 5000);
  const badRatio = options.badRatio ?? 0.01;
  const database = await freshDatabase('ingest', { poolSize: 20 });
  const codes = Array.from({ length: hotelCount }, (_, i) => `ING${i}`);
  const simulator = await startSimulatorThread(
    { bookings: perHotel, badRatio, baseDate: BASE_DATE, seed: 'bench-ingest' },
    codes,
  );
  try {
    const secretsKey = Buffer.from(SECRETS_KEY, 'hex');
    await loadShippedConfigs(database.db, SHIPPED_CONFIGS_DIR);
    log(`ingest: seeding ${hotelCount} hotels (calendars loaded ahead)…`);
    const hotels = await seedHotels(database.db, hotelCount);
    // The simulator listens on loopback.
    const connections = createConnectionService(
      database.db,
      secretsKey,
      parseEgressPolicy('loopback').policy,
    );
    const actor = {
      id: '00000000-0000-0000-0000-000000000000',
      email: 'bench@pms',
      role: 'SUPER_ADMIN' as const,
      propertyIds: [],
    };
    for (const hotel of hotels) {
      const dialect = DIALECT_CONFIG[hotel.dialect];
      await connections.put({ actor, requestId: null }, hotel.propertyId, {
        pms_type: dialect.pms_type,
        version: dialect.version,
        base_url: simulator.url,
        hotel_external_id: hotel.code,
        secrets: { [dialect.secret]: simulator.credentials[hotel.dialect] },
      });
    }
    const expectedBad = hotels.reduce((n, h) => n + simulator.bad[h.code]!, 0);
    const total = hotelCount * perHotel;
    const sync = createSyncService({
      db: database.db,
      secretsKey,
      applyImportedChanges,
      concurrency,
      batchSize,
      allowedNetworks: parseEgressPolicy('loopback').policy,
    });

    log(
      `ingest: syncing ${total.toLocaleString('en')} bookings from the simulator over HTTP, ${concurrency} hotels at a time…`,
    );
    const started = performance.now();
    const runs = await sync.syncProperties(hotels.map((h) => h.propertyId));
    const pipelineSeconds = (performance.now() - started) / 1000;
    const failed = runs.filter((r) => r.status === 'failed');
    if (failed.length > 0) throw new Error(`sync failed: ${JSON.stringify(failed)}`);
    const created = runs.reduce((n, r) => n + ('created' in r ? r.created : 0), 0);
    const quarantined = runs.reduce((n, r) => n + ('quarantined' in r ? r.quarantined : 0), 0);
    if (created + quarantined !== total || quarantined !== expectedBad) {
      throw new Error(`counts do not add up: ${created} created + ${quarantined} quarantined ≠ ${total}`);
    }
    const timings: Record<string, number> = {};
    for (const run of runs) {
      for (const [key, value] of Object.entries(('timings' in run && run.timings) || {}))
        timings[key] = (timings[key] ?? 0) + value;
    }
    log(`ingest: pipeline ${pipelineSeconds.toFixed(2)} s (${created} created, ${quarantined} quarantined)`);

    // The limit: the very rows the pipeline wrote, loaded again by COPY into the same tables.
    const ids = hotels.map((h) => h.propertyId);
    const copySeconds = await copyAgain(database, ids, log);
    const copied = Number(
      (
        await sql<{
          n: string;
        }>`SELECT count(*) AS n FROM reservation WHERE property_id = ANY(${ids}::uuid[])`.execute(database.db)
      ).rows[0]!.n,
    );
    if (copied !== created) throw new Error(`COPY loaded ${copied} reservations, expected ${created}`);
    log(`ingest: raw COPY of the same rows ${copySeconds.toFixed(2)} s`);

    const perSecond = total / pipelineSeconds;
    const copyPerSecond = created / copySeconds;
    const figures: Figure[] = [
      {
        bench: 'ingest',
        metric: 'pipeline_bookings_per_s',
        value: perSecond,
        unit: '/s',
        ...atLeast(perSecond, 10_000),
      },
      { bench: 'ingest', metric: 'copy_bookings_per_s', value: copyPerSecond, unit: '/s' },
      { bench: 'ingest', metric: 'pipeline_to_copy_ratio', value: perSecond / copyPerSecond, unit: 'ratio' },
      { bench: 'ingest', metric: 'bookings', value: total, unit: 'bookings' },
      { bench: 'ingest', metric: 'pipeline_seconds', value: pipelineSeconds, unit: 's' },
    ];
    const roomsCount = Number(process.env.INGEST_ROOMS_BOOKINGS ?? 20_000);
    if (roomsCount > 0) {
      const [roomsHotel] = await seedHotels(database.db, 1, 'INGR');
      const connection = await connections.put({ actor, requestId: null }, roomsHotel!.propertyId, {
        pms_type: 'acme',
        version: '2.1',
        base_url: simulator.url,
        hotel_external_id: 'INGR0',
        secrets: { api_token: simulator.credentials.acme },
      });
      figures.push(
        ...(await multiRoomPhase(
          database,
          roomsHotel!.propertyId,
          connection.connection.id,
          roomsCount,
          batchSize,
          log,
        )),
      );
    }
    log('');
    for (const figure of figures) {
      const verdict = figure.goal ? `  goal ${figure.goal}: ${figure.met ? 'met' : 'NOT met'}` : '';
      log(`  ${figure.metric.padEnd(30)} ${figure.value.toFixed(2)} ${figure.unit}${verdict}`);
    }
    log(`  time inside the runs (summed over hotels, which overlap): ${JSON.stringify(timings)}`);
    return { figures, bookings: total, pipelineSeconds, copySeconds, timings };
  } finally {
    await simulator.close();
    await database.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runIngestBench();
}
