import type { ClaimedLane, SequencedEvent } from '../relay/lane.repository.ts';

/** Where one lane's events go for one round: a broker connection or one webhook endpoint. */
export interface LaneTarget {
  /** Only these event types are delivered on the lane (webhook subscriptions); all when absent. */
  types?: readonly string[];
  /** Delivers one event; throws when the sink did not accept it. `attempt` counts from 1. */
  send(event: SequencedEvent, attempt: number): Promise<void>;
}

/**
 * A destination for events. The relay owns ordering, leases and retries; a sink only knows how
 * to hand over one event, and each sink has its own lanes (its own delivery state).
 */
export interface EventSink {
  /** The lane `sink` value: 'nats', 'kafka' or 'webhook'. */
  readonly name: string;
  /** Events per lane per round. */
  readonly batchSize: number;
  /** Lanes of this sink delivered at once by one worker. */
  readonly concurrency: number;
  /** Delay before retry number `attempts` (1 = the first retry). */
  retryDelayMs(attempts: number): number;
  /** The target for a lane, or undefined when the lane has nowhere to go any more (it is stopped). */
  open(lane: ClaimedLane): Promise<LaneTarget | undefined>;
  /** Called after a failed round: a sink may give up on a lane that has failed for too long. */
  afterFailure?(lane: ClaimedLane & { attempts: number; failingSince: Date }, error: string): Promise<void>;
  close(): Promise<void>;
}

/** Exponential backoff with full jitter on the upper half, capped. */
export function exponentialBackoff(baseMs: number, maxMs: number) {
  return (attempts: number): number => {
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  };
}
