import type { EgressPolicy } from '../../../app/egress.ts';
import type { Db, Tx } from '../../../db/database.ts';
import { recordAudit } from '../../audit/audit.repository.ts';
import { appendEvent } from '../../events/outbox.ts';
import type { ApplyImportedChanges } from '../../inventory/inventory.contract.ts';
import type { ConfigRow } from '../config/config.repository.ts';
import { findConfigById } from '../config/config.repository.ts';
import { findConnectionById, lockConnection } from '../connections/connection.repository.ts';
import { openSecrets } from '../connections/secret-box.ts';
import { type AckRequest, createConnector, type FetchedPage } from '../connector/http-connector.ts';
import { type Redactor, redactor } from '../connector/placeholders.ts';
import { budgetFor, type RequestBudget } from '../connector/rate-budget.ts';
import { PMSConnectionError, PMSError } from '../integrations.errors.ts';
import type { Joined } from '../mapping/joins.ts';
import type { CanonicalBooking } from '../pipeline/canonical.ts';
import { compilePipeline, type Pipeline } from '../pipeline/pipeline.ts';
import * as pendingAcks from './ack.repository.ts';
import { CursorTracker } from './cursor.ts';
import { knownFields, saveFingerprint } from './drift.repository.ts';
import { compareFields, FieldCensus } from './drift.ts';
import { type BatchOutcome, writeBatch } from './ledger-batch.ts';
import { hotelLookups } from './lookup.repository.ts';
import { prefetch } from './prefetch.ts';
import * as quarantine from './quarantine.repository.ts';
import { VanishedBookings } from './reconcile.ts';
import * as runs from './sync.repository.ts';
import { type RunView, toRunView } from './sync.views.ts';

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ExecutorDeps {
  db: Db;
  secretsKey: Buffer;
  applyImportedChanges: ApplyImportedChanges;
  logger?: Logger;
  /** Records per upsert transaction. */
  batchSize?: number;
  /** The request budget of a PMS (type + host); by default shared process-wide. */
  budget?: (key: string, requestsPerSecond: number | undefined) => RequestBudget;
  /** Where PMS requests may connect (PMS_ALLOWED_NETWORKS). */
  allowedNetworks?: EgressPolicy;
  /** A running run silent this long is failed as abandoned (PMS_SYNC_ABANDONED_SECONDS). */
  abandonedAfterSeconds?: number;
}

/** PMS_SYNC_ABANDONED_SECONDS's default; a live run beats four times in that span. */
export const ABANDONED_AFTER_SECONDS = 60;

export interface RunProgress {
  run: string;
  pages: number;
  fetched: number;
  created: number;
  updated: number;
  unchanged: number;
  quarantined: number;
}

/** Told after each committed batch; a returned promise holds the run until it settles. */
export type ProgressListener = (progress: RunProgress) => void | Promise<void>;

interface Page {
  /** `joined`: what a quarantined record's joins matched on its page (a replay reads no page). */
  records: Array<{ raw: unknown; errorId?: string; joined?: Joined }>;
  /** What the connector asks of the commit of this page (a window's cursor, a queue's acks). */
  fetched?: FetchedPage;
}

const pipelines = new Map<string, Pipeline>();
function pipelineFor(config: ConfigRow): Pipeline {
  let pipeline = pipelines.get(config.checksum);
  if (!pipeline) {
    pipeline = compilePipeline(config.document);
    if (pipelines.size > 100) pipelines.clear();
    pipelines.set(config.checksum, pipeline);
  }
  return pipeline;
}

const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/**
 * Executes sync runs: claims a queued run, fetches (or, for a replay, reads the quarantine),
 * maps every record, and commits batches to the ledger. The cursor moves only in the last
 * transaction, after the whole fetch succeeded; a failure leaves it where it was.
 */
export function createRunExecutor(deps: ExecutorDeps) {
  const { db } = deps;
  const logger = deps.logger ?? silentLogger;
  // Measured (docs/PERFORMANCE.md): per batch, the calendar rewrites every night the batch spans
  // and pays its statements' fixed costs, so 5,000 cost a quarter less database CPU per booking
  // than 1,000. The calendar's locks are held only for its last statement and the commit.
  const batchSize = deps.batchSize ?? 5000;
  const budget = deps.budget ?? ((key, rps) => budgetFor(key, rps));
  const abandonedAfterSeconds = deps.abandonedAfterSeconds ?? ABANDONED_AFTER_SECONDS;

  async function execute(runId: string, onProgress?: ProgressListener): Promise<RunView> {
    const claimed = await runs.claimRun(db, runId);
    if (!claimed) return toRunView((await runs.getRun(db, runId))!);
    const started = performance.now();
    const timings = {
      fetch_ms: 0,
      map_ms: 0,
      write_ms: 0,
      read_ms: 0,
      ledger_ms: 0,
      inventory_ms: 0,
      events_ms: 0,
    };
    const connection = await findConnectionById(db, claimed.connection_id);
    let redact: (text: string) => string = (text) => text;
    // A window's cursor, saved with the span it closes: a failed run keeps the last one committed.
    let committedCursor: string | undefined;
    const abort = new AbortController();
    // Beats while the run lives, also while it waits on the PMS, so that only a run whose process
    // is gone falls silent.
    const heartbeat = setInterval(
      () =>
        void runs.beat(db, runId).catch((error: unknown) => {
          logger.warn({ run: runId, err: error }, 'PMS sync heartbeat failed');
        }),
      (abandonedAfterSeconds * 1000) / 4,
    );
    heartbeat.unref();
    try {
      const config = await findConfigById(db, claimed.config_id);
      if (!connection || !config)
        throw new PMSConnectionError('the connection or its config no longer exists');
      let secrets: Record<string, string>;
      try {
        secrets = openSecrets(deps.secretsKey, connection.property_id, connection.secrets_ciphertext);
      } catch {
        throw new PMSConnectionError(
          'the connection secrets cannot be decrypted (was PMS_SECRETS_KEY changed?); set them again',
        );
      }
      const redacting: Redactor = redactor(secrets);
      redact = redacting;
      const lookups = await hotelLookups(db, connection.property_id);
      const roomTypeCodes = new Set(lookups.roomTypeIds.keys());
      const pipeline = pipelineFor(config);
      const replay = claimed.trigger === 'replay';
      // Records half: the hotel's value maps and time zone for the transforms; a listing read whole
      // from the initial cursor may reconcile the bookings it no longer returns.
      const env = { valueMaps: connection.value_maps, timezone: lookups.timezone };
      const fullListing =
        !replay && !config.document.source.ack && (claimed.full_listing || connection.cursor === null);
      const reconciliation = config.document.reconciliation;
      const vanished = fullListing && reconciliation ? new VanishedBookings(reconciliation) : undefined;
      const cursor = new CursorTracker(config.document.source.incremental, connection.cursor);
      const census = new FieldCensus();
      const unknownRoomTypes = new Map<string, number>();
      let withoutRoomType = 0;
      const progress: RunProgress = {
        run: runId,
        pages: 0,
        fetched: 0,
        created: 0,
        updated: 0,
        unchanged: 0,
        quarantined: 0,
      };

      const transportWarnings: Record<string, unknown> = {};
      const connector = replay
        ? undefined
        : createConnector({
            config: config.document,
            baseUrl: connection.base_url,
            hotelExternalId: connection.hotel_external_id,
            secrets,
            cursor: claimed.full_listing ? null : connection.cursor,
            budget: budget(
              `${config.pms_type}|${new URL(connection.base_url).origin}`,
              config.document.source.rate_limit?.requests_per_second,
            ),
            signal: abort.signal,
            allowedNetworks: deps.allowedNetworks,
            secretOrigins: connection.secret_origins ?? [],
            tokenCacheKey: connection.id,
            redact: redacting,
            onWarning: (key, message) => {
              transportWarnings[key] = message;
            },
            onRetry: (info) =>
              logger.warn(
                { run: runId, property: connection.property_id, ...info },
                'retrying a PMS request',
              ),
          });
      // Acknowledgements go to the hotel and PMS they were read from, never to another.
      const ackScope = `${connection.hotel_external_id}|${connection.base_url}`;
      /** Sends acknowledgements in order; the first refusal stops (the rest waits for the next run). */
      const sendAcks = async (list: AckRequest[]): Promise<boolean> => {
        const done: string[] = [];
        let ok = true;
        for (const ack of list) {
          try {
            await connector!.acknowledge(ack);
            done.push(ack.key);
          } catch (error) {
            if (!(error instanceof PMSConnectionError)) throw error;
            ok = false;
            transportWarnings.ack_error = redact(error.message);
            await pendingAcks.failPendingAck(db, connection.id, ack.key, redact(error.message));
            logger.warn(
              { run: runId, error: redact(error.message) },
              'a PMS acknowledgement failed; retried at the next run',
            );
            break;
          }
        }
        await pendingAcks.deletePendingAcks(db, connection.id, done);
        return ok;
      };
      if (connector && config.document.source.ack) {
        // What an earlier run committed but could not acknowledge goes first.
        const stored = await pendingAcks.pendingAcks(db, connection.id, 1000);
        const elsewhere = stored.filter((row) => row.scope !== ackScope).map((row) => row.ack_key);
        await pendingAcks.deletePendingAcks(db, connection.id, elsewhere);
        await sendAcks(
          stored
            .filter((row) => row.scope === ackScope)
            .map((row) => ({ key: row.ack_key, items: row.items })),
        );
      }

      let accepted: CanonicalBooking[] = [];
      let acceptedFrom: Array<{ raw: unknown; errorId?: string; joined?: Joined }> = [];
      let rejected: quarantine.QuarantineInsert[] = [];
      let replayed: Array<{ id: string; status: 'ingested' | 'failed' }> = [];
      let pending = { pages: 0, fetched: 0 };

      const write = async (tx: Tx) => {
        if (!(await runs.lockRunning(tx, runId)))
          throw new PMSConnectionError('the run was failed as abandoned while it was stalled');
        await lockConnection(tx, connection.id);
        const outcome: BatchOutcome = await writeBatch(
          tx,
          {
            runId,
            propertyId: connection.property_id,
            connectionId: connection.id,
            source: `pms:${config.pms_type}`,
            lookups,
            applyImportedChanges: deps.applyImportedChanges,
          },
          accepted,
        );
        // Grouped records the assembly refused are quarantined like any other bad record.
        for (const { index, error } of outcome.rejected) {
          const from = acceptedFrom[index]!;
          rejected.push(
            quarantined(
              runId,
              connection.property_id,
              error,
              accepted[index]!.external_id,
              from.raw,
              from.joined,
            ),
          );
          const retried = from.errorId ? replayed.find((r) => r.id === from.errorId) : undefined;
          if (retried) retried.status = 'failed';
        }
        await quarantine.insertErrors(tx, rejected);
        await quarantine.markReplayed(tx, replayed, runId);
        const delta = {
          pages: pending.pages,
          fetched: pending.fetched,
          created: outcome.created,
          updated: outcome.updated,
          unchanged: outcome.unchanged,
          quarantined: rejected.length,
        };
        await runs.addProgress(tx, runId, delta);
        for (const key of Object.keys(outcome.timings) as Array<keyof BatchOutcome['timings']>) {
          timings[key] += outcome.timings[key];
        }
        for (const [code, count] of outcome.unknownRoomTypes)
          unknownRoomTypes.set(code, (unknownRoomTypes.get(code) ?? 0) + count);
        withoutRoomType += outcome.withoutRoomType;
        return delta;
      };
      // After each committed batch; the run goes on once the listener is done.
      const settle = async (delta: Omit<RunProgress, 'run'>) => {
        for (const key of Object.keys(delta) as Array<keyof typeof delta>) progress[key] += delta[key];
        accepted = [];
        acceptedFrom = [];
        rejected = [];
        replayed = [];
        pending = { pages: 0, fetched: 0 };
        await onProgress?.({ ...progress });
      };

      const pages: AsyncIterator<Page> = replay
        ? replayPages(db, connection.property_id, claimed.replay_filter ?? {})
        : mapPages(connector!.pages());

      let waited = performance.now();
      for await (const page of prefetch(pages)) {
        try {
          timings.fetch_ms += performance.now() - waited;
          const mapStart = performance.now();
          const fetched = page.fetched;
          if (!fetched?.marker) pending.pages += 1;
          if (fetched?.responseCursor !== undefined) cursor.observeResponse(fetched.responseCursor);
          for (const { raw, errorId, joined } of page.records) {
            pending.fetched += 1;
            if (!replay) {
              census.add(raw);
              cursor.observe(raw);
            }
            const result = pipeline.process(raw, { roomTypeCodes, env, page: fetched?.body, joined });
            vanished?.observe(result);
            if (result.ok) {
              accepted.push(result.booking);
              acceptedFrom.push({ raw, errorId, joined });
            } else {
              rejected.push(
                quarantined(
                  runId,
                  connection.property_id,
                  result.error,
                  result.externalId,
                  raw,
                  result.joined,
                ),
              );
            }
            if (errorId) replayed.push({ id: errorId, status: result.ok ? 'ingested' : 'failed' });
          }
          timings.map_ms += performance.now() - mapStart;
          // A window span's end and a queue page are committed at once: the cursor and the acks wait for it.
          const commitNow = fetched?.checkpoint !== undefined || fetched?.settle !== undefined;
          if (commitNow || accepted.length + rejected.length >= batchSize) {
            const writeStart = performance.now();
            const acks = fetched?.acks ?? [];
            await settle(
              await db.transaction().execute(async (tx) => {
                // A queue is acknowledged right after this commit: it must be on disk first, or a crash
                // would lose records the PMS no longer holds.
                if (acks.length === 0) await runs.commitWithoutFlush(tx);
                const delta = await write(tx);
                if (fetched?.checkpoint !== undefined)
                  await runs.saveCursor(tx, connection.id, fetched.checkpoint);
                await pendingAcks.insertPendingAcks(tx, connection.id, ackScope, acks);
                return delta;
              }),
            );
            timings.write_ms += performance.now() - writeStart;
            if (fetched?.checkpoint !== undefined) committedCursor = fetched.checkpoint;
            if (fetched?.settle) fetched.settle((await sendAcks(acks)) ? 'continue' : 'stop');
          }
          waited = performance.now();
        } catch (error) {
          // Wakes a queue read waiting for this page's commit, so the fetch unwinds instead of hanging.
          abort.abort();
          throw error;
        }
      }

      // The last batch commits with the cursor, the drift report and the run's outcome.
      const writeStart = performance.now();
      const { finished, delta } = await db.transaction().execute(async (tx) => {
        const delta = await write(tx);
        const total = { ...progress };
        for (const key of Object.keys(delta) as Array<keyof typeof delta>) total[key] += delta[key];
        const locked = await lockConnection(tx, connection.id);
        const moved = replay ? undefined : cursor.advanced();
        const drift = replay
          ? null
          : compareFields(await knownFields(tx, config.pms_type, config.version), census);
        if (!replay) await saveFingerprint(tx, config.pms_type, config.version, census, runId);
        const warnings: Record<string, unknown> = {};
        if (unknownRoomTypes.size > 0)
          warnings.unknown_room_type_codes = Object.fromEntries(unknownRoomTypes);
        if (withoutRoomType > 0) warnings.bookings_without_room_type = withoutRoomType;
        Object.assign(warnings, transportWarnings);
        if (connector && config.document.source.ack) {
          const waiting = await pendingAcks.countPendingAcks(tx, connection.id);
          if (waiting > 0) warnings.pending_acks = waiting;
        }
        await vanished?.finish(tx, {
          runId,
          propertyId: connection.property_id,
          source: `pms:${config.pms_type}`,
          timezone: lookups.timezone,
          applyImportedChanges: deps.applyImportedChanges,
        });
        timings.write_ms += performance.now() - writeStart;
        // Still running: write() locked the run and checked it.
        const row = (await runs.finishRun(tx, runId, {
          status: total.quarantined > 0 ? 'partial' : 'succeeded',
          cursor_after: moved ?? locked?.cursor ?? null,
          schema_drift: drift,
          warnings: Object.keys(warnings).length > 0 ? warnings : null,
          timings: roundTimings({ ...timings, total_ms: performance.now() - started }),
          error: null,
        }))!;
        await runs.recordLastRun(tx, connection.id, row, moved);
        await completeRun(tx, row);
        return { finished: row, delta };
      });
      await settle(delta);
      logger.info(
        { run: runId, property: finished.property_id, status: finished.status, fetched: finished.fetched },
        'PMS sync finished',
      );
      return toRunView(finished);
    } catch (error) {
      abort.abort();
      const message = redact(
        error instanceof PMSError
          ? error.message
          : `internal error: ${error instanceof Error ? error.message : String(error)}`,
      );
      if (!(error instanceof PMSError))
        logger.error({ run: runId, err: error }, 'PMS sync failed unexpectedly');
      else
        logger.warn(
          {
            run: runId,
            error: message,
            cause: error instanceof PMSConnectionError ? error.detail : undefined,
          },
          'PMS sync failed',
        );
      const failed = await db.transaction().execute(async (tx) => {
        const row = await runs.finishRun(tx, runId, {
          status: 'failed',
          cursor_after: committedCursor ?? connection?.cursor ?? null,
          schema_drift: null,
          warnings: null,
          timings: roundTimings({ ...timings, total_ms: performance.now() - started }),
          error: message,
        });
        // Already failed as abandoned: it keeps that outcome.
        if (!row) return (await runs.getRun(tx, runId))!;
        if (connection) await runs.recordLastRun(tx, connection.id, row, undefined);
        await completeRun(tx, row);
        return row;
      });
      return toRunView(failed);
    } finally {
      clearInterval(heartbeat);
    }
  }

  return { execute };
}

export type RunExecutor = ReturnType<typeof createRunExecutor>;

/**
 * Fails the runs whose process stopped beating (all, or one connection's) and ends each as any
 * failed run ends: the connection's last run, the completion event, the audit row. Their cursor
 * stays where it was.
 */
export async function failAbandonedRuns(
  db: Db,
  silentSeconds: number,
  connectionId?: string,
): Promise<string[]> {
  return db.transaction().execute(async (tx) => {
    const abandoned = await runs.failAbandonedRuns(tx, silentSeconds, connectionId);
    for (const row of abandoned) {
      await runs.recordLastRun(tx, row.connection_id, row, undefined);
      await completeRun(tx, row);
    }
    return abandoned.map((row) => row.id);
  });
}

/** The end of every run: its completion event and an audit row, in the run's last transaction. */
async function completeRun(tx: Tx, row: runs.RunRow): Promise<void> {
  const view = toRunView(row);
  await appendEvent(tx, 'pms.integration.sync.completed', row.property_id, {
    sync_run: {
      id: view.id,
      property_id: view.property_id,
      trigger: view.trigger,
      status: view.status,
      fetched: view.fetched,
      created: view.created,
      updated: view.updated,
      unchanged: view.unchanged,
      quarantined: view.quarantined,
      schema_drift: view.schema_drift,
      error: view.error,
      started_at: view.started_at,
      finished_at: view.finished_at,
    },
  });
  await recordAudit(
    tx,
    { actor: null, requestId: null },
    {
      action: `pms.sync.${row.status}`,
      entityType: 'sync_run',
      entityId: row.id,
      propertyId: row.property_id,
      diff: {
        trigger: row.trigger,
        fetched: row.fetched,
        created: row.created,
        updated: row.updated,
        unchanged: row.unchanged,
        quarantined: row.quarantined,
        cursor: [row.cursor_before, row.cursor_after],
        ...(row.error ? { error: row.error } : {}),
      },
    },
  );
}

function roundTimings(timings: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)]));
}

async function* mapPages(source: AsyncIterable<FetchedPage>): AsyncGenerator<Page> {
  for await (const page of source) yield { records: page.records.map((raw) => ({ raw })), fetched: page };
}

/** A quarantine row for a record that failed a stage, with what its joins matched (for a replay). */
function quarantined(
  runId: string,
  propertyId: string,
  error: PMSError,
  externalId: string | null,
  raw: unknown,
  joined: Joined | undefined,
): quarantine.QuarantineInsert {
  return {
    sync_run_id: runId,
    property_id: propertyId,
    stage: error.stage,
    error_type: error.errorType,
    field: error.field,
    message: error.message,
    external_id: externalId,
    raw,
    context: joined ? { joins: joined } : null,
  };
}

/** A replay reads the hotel's pending quarantine instead of the PMS, a page at a time. */
async function* replayPages(
  db: Db,
  propertyId: string,
  filter: { sync_run_id?: string; error_ids?: string[] },
): AsyncGenerator<Page> {
  const rows = await quarantine.pendingErrors(db, propertyId, {
    syncRunId: filter.sync_run_id,
    ids: filter.error_ids,
    limit: 100_000,
  });
  for (let i = 0; i < rows.length; i += 500) {
    yield {
      records: rows.slice(i, i + 500).map((row) => ({
        raw: row.raw,
        errorId: row.id,
        joined: (row.context as { joins?: Joined } | null)?.joins,
      })),
    };
  }
}
