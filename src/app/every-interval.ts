import type { FastifyBaseLogger } from 'fastify';

/**
 * Runs `task` now and then every `intervalMs`, never two runs at once; a failing run is logged
 * and the next one tries again. Returns a stop function that waits for a run in progress.
 */
export function everyInterval(
  name: string,
  intervalMs: number,
  logger: FastifyBaseLogger,
  task: () => Promise<void>,
): () => Promise<void> {
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = task()
      .catch((error: unknown) => logger.error({ err: error, task: name }, 'housekeeping task failed'))
      .finally(() => {
        running = undefined;
      });
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
