import { NotFoundError, ValidationError } from '../../../app/errors.ts';
import { decodeCursor, pageOf } from '../../../app/schemas.ts';
import type { SyncRunStatus } from '../../../db/schema.ts';
import { type RequestContext, recordAudit } from '../../audit/audit.repository.ts';
import { type Actor, assertCanAdminProperty, propertyScope } from '../../auth/auth.context.ts';
import { findConnection } from '../connections/connection.repository.ts';
import { assertIntegrationAdmin } from '../integrations.access.ts';
import { ConnectionMissingError } from '../integrations.errors.ts';
import { mapBounded } from './prefetch.ts';
import * as quarantine from './quarantine.repository.ts';
import { listVanished } from './reconcile.repository.ts';
import {
  ABANDONED_AFTER_SECONDS,
  createRunExecutor,
  type ExecutorDeps,
  failAbandonedRuns,
  type ProgressListener,
} from './run-executor.ts';
import * as runs from './sync.repository.ts';
import { type RunView, toErrorView, toRunView } from './sync.views.ts';

export interface SyncServiceDeps extends ExecutorDeps {
  /** Hotels synced at once by one process (the per-PMS request budget applies on top). */
  concurrency?: number;
}

type Context = RequestContext & { actor: Actor };

/**
 * Sync runs as use cases: queue one (on demand, on schedule, or as a replay), execute queued
 * ones with bounded concurrency, and read runs and quarantined records back.
 */
export function createSyncService(deps: SyncServiceDeps) {
  const { db } = deps;
  const executor = createRunExecutor(deps);
  const concurrency = deps.concurrency ?? 4;
  const abandonedAfterSeconds = deps.abandonedAfterSeconds ?? ABANDONED_AFTER_SECONDS;
  const background = new Set<Promise<unknown>>();

  function inBackground(runId: string) {
    const job = executor.execute(runId).catch((error: unknown) => {
      deps.logger?.error({ run: runId, err: error }, 'PMS sync could not record its outcome');
    });
    background.add(job);
    void job.finally(() => background.delete(job));
  }

  async function queue(
    ctx: Context | null,
    propertyId: string,
    trigger: 'manual' | 'replay',
    replayFilter?: { sync_run_id?: string; error_ids?: string[] },
    fullListing = false,
  ) {
    const connection = await findConnection(db, propertyId);
    if (!connection) throw new ConnectionMissingError(propertyId);
    // A run left behind by a process that died must not hold the hotel until a worker's sweep.
    await failAbandonedRuns(db, abandonedAfterSeconds, connection.id);
    const queued = await runs.queueRun(db, {
      property_id: propertyId,
      connection_id: connection.id,
      config_id: connection.config_id,
      trigger,
      requested_by: ctx?.actor.id ?? null,
      cursor_before: connection.cursor,
      replay_filter: replayFilter,
      full_listing: fullListing,
    });
    if (!queued.joined && ctx) {
      await db.transaction().execute((tx) =>
        recordAudit(tx, ctx, {
          action: trigger === 'replay' ? 'pms.sync.replay_requested' : 'pms.sync.requested',
          entityType: 'sync_run',
          entityId: queued.run.id,
          propertyId,
          diff: {
            trigger,
            ...(replayFilter ? { replay_filter: replayFilter } : {}),
            ...(fullListing ? { full_listing: true } : {}),
          },
        }),
      );
    }
    return queued;
  }

  /** Runs now and returns the finished run, or starts it in the background and returns it queued. */
  async function start(queued: { run: runs.RunRow; joined: boolean }, wait: boolean) {
    if (!wait) {
      if (!queued.joined) inBackground(queued.run.id);
      return { run: toRunView(queued.run), finished: false };
    }
    if (!queued.joined) return { run: await executor.execute(queued.run.id), finished: true };
    return { run: await waitFor(queued.run.id), finished: true };
  }

  /** Waits for a run another request started; one whose process died ends failed, not never. */
  async function waitFor(runId: string): Promise<RunView> {
    // A run falls silent in beats of a quarter of the limit: checking more often finds nothing new.
    let checked = Date.now();
    for (;;) {
      const row = (await runs.getRun(db, runId))!;
      if (row.status !== 'queued' && row.status !== 'running') return toRunView(row);
      if (row.status === 'running' && Date.now() - checked >= abandonedAfterSeconds * 250) {
        checked = Date.now();
        await failAbandonedRuns(db, abandonedAfterSeconds, row.connection_id);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Executes runs, `concurrency` hotels at a time; one hotel's failure never stops another's. */
  async function executeMany(runIds: string[], onProgress?: ProgressListener) {
    const settled = await mapBounded(runIds, concurrency, (id) => executor.execute(id, onProgress));
    return settled.map((s, i) =>
      s.status === 'fulfilled'
        ? s.value
        : { id: runIds[i]!, property_id: null, status: 'failed' as const, error: String(s.reason) },
    );
  }

  return {
    execute: executor.execute,

    /** `full`: read every booking from the initial cursor, and reconcile those the PMS no longer lists. */
    async request(ctx: Context, input: { property_id: string; wait?: boolean; full?: boolean }) {
      assertCanAdminProperty(ctx.actor, input.property_id);
      return start(
        await queue(ctx, input.property_id, 'manual', undefined, input.full ?? false),
        input.wait ?? false,
      );
    },

    async replay(
      ctx: Context,
      input: { property_id: string; sync_run_id?: string; error_ids?: string[]; wait?: boolean },
    ) {
      assertCanAdminProperty(ctx.actor, input.property_id);
      const pending = await quarantine.pendingErrors(db, input.property_id, {
        syncRunId: input.sync_run_id,
        ids: input.error_ids,
        limit: 1,
      });
      if (pending.length === 0) {
        throw new ValidationError('There are no quarantined records waiting for a replay here.', [
          { pointer: '/body', message: 'selects no pending quarantined record' },
        ]);
      }
      const filter = {
        ...(input.sync_run_id ? { sync_run_id: input.sync_run_id } : {}),
        ...(input.error_ids ? { error_ids: input.error_ids } : {}),
      };
      return start(await queue(ctx, input.property_id, 'replay', filter), input.wait ?? false);
    },

    /** Queues a run for every connection that is due, for the scheduler. */
    async queueDue(limit = 100): Promise<string[]> {
      const due = await runs.dueConnections(db, limit);
      const ids: string[] = [];
      for (const connection of due) {
        const queued = await runs.queueRun(db, {
          property_id: connection.property_id,
          connection_id: connection.id,
          config_id: connection.config_id,
          trigger: 'schedule',
          requested_by: null,
          cursor_before: connection.cursor,
        });
        if (!queued.joined) ids.push(queued.run.id);
      }
      return ids;
    },

    executeMany,

    /** Queues and runs syncs for some properties, `concurrency` at a time: the CLI. */
    async syncProperties(
      propertyIds: string[],
      onProgress?: ProgressListener,
      onQueued?: (runId: string, propertyId: string) => void,
    ) {
      const ids: string[] = [];
      for (const propertyId of propertyIds) {
        const queued = await queue(null, propertyId, 'manual');
        onQueued?.(queued.run.id, propertyId);
        ids.push(queued.run.id);
      }
      return executeMany(ids, onProgress);
    },

    /** Fails every run whose process stopped beating, for the worker's sweep. */
    failAbandoned: () => failAbandonedRuns(db, abandonedAfterSeconds),
    orphanedQueued: (olderThanSeconds: number) => runs.queuedRunIds(db, 100, olderThanSeconds),

    async getRun(actor: Actor, id: string): Promise<RunView> {
      assertIntegrationAdmin(actor);
      const row = await runs.getRun(db, id);
      if (!row || (propertyScope(actor) !== null && !actor.propertyIds.includes(row.property_id))) {
        throw new NotFoundError('Sync run', id);
      }
      return toRunView(row);
    },

    async listRuns(
      actor: Actor,
      query: { property_id?: string; status?: SyncRunStatus; limit: number; cursor?: string },
    ) {
      assertIntegrationAdmin(actor);
      const before = decodeCursor(query.cursor);
      const rows = await runs.listRuns(db, {
        propertyIds: propertyScope(actor),
        propertyId: query.property_id,
        status: query.status,
        before: before ? { sortKey: String(before.sortKey), id: before.id } : undefined,
        limit: query.limit,
      });
      const page = pageOf(rows, query.limit, (r) => r.sort_key);
      return { results: page.results.map(toRunView), next_cursor: page.next_cursor };
    },

    async listErrors(
      actor: Actor,
      query: {
        sync_run_id?: string;
        property_id?: string;
        replay_status?: 'pending' | 'ingested' | 'failed';
        error_type?: string;
        limit: number;
        cursor?: string;
      },
    ) {
      assertIntegrationAdmin(actor);
      const after = decodeCursor(query.cursor);
      const rows = await quarantine.listErrors(db, {
        propertyIds: propertyScope(actor),
        propertyId: query.property_id,
        syncRunId: query.sync_run_id,
        replayStatus: query.replay_status,
        errorType: query.error_type,
        after: after ? { sortKey: String(after.sortKey), id: after.id } : undefined,
        limit: query.limit,
      });
      const page = pageOf(rows, query.limit, (r) => r.sort_key);
      return { results: page.results.map(toErrorView), next_cursor: page.next_cursor };
    },

    /** Bookings full listings no longer returned, reported or cancelled by reconciliation (v2). */
    async listVanished(
      actor: Actor,
      query: { sync_run_id?: string; property_id?: string; limit: number; cursor?: string },
    ) {
      assertIntegrationAdmin(actor);
      const after = decodeCursor(query.cursor);
      const rows = await listVanished(db, {
        propertyIds: propertyScope(actor),
        propertyId: query.property_id,
        syncRunId: query.sync_run_id,
        after: after ? { sortKey: String(after.sortKey), id: after.id } : undefined,
        limit: query.limit,
      });
      const page = pageOf(rows, query.limit, (r) => r.sort_key);
      return {
        results: page.results.map((r) => ({
          id: r.id,
          sync_run_id: r.sync_run_id,
          property_id: r.property_id,
          reservation_id: r.reservation_id,
          external_id: r.external_id,
          check_in: r.check_in,
          check_out: r.check_out,
          status_before: r.status_before,
          action: r.action,
          created_at: r.created_at.toISOString(),
        })),
        next_cursor: page.next_cursor,
      };
    },

    /** Waits for runs started in the background (graceful shutdown). */
    async drain(): Promise<void> {
      while (background.size > 0) await Promise.allSettled([...background]);
    },
  };
}

export type SyncService = ReturnType<typeof createSyncService>;
