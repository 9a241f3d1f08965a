import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

// The sync's own Prometheus metrics. One registry per process, with the Node process metrics (RSS, CPU,
// event-loop lag, GC) that prom-client collects; the worker's outcome counters come from the Temporal SDK
// instead (workflows/metrics-interceptor.ts), since only the SDK's meter is safe inside workflow code.

export function createRegistry(process: 'worker' | 'router'): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ process });
  collectDefaultMetrics({ register: registry, prefix: 'alerts_sync_' });
  return registry;
}

export interface RouterMetrics {
  consumed: Counter<'topic' | 'event_type'>;
  deadLettered: Counter<'reason'>;
  skipped: Counter<'reason'>;
  syncRequests: Counter<'kind'>;
  temporalRetries: Counter;
  consumerLag: Gauge<'topic' | 'partition'>;
}

/**
 * @param lag read at scrape time (the gauge's collect), so the figure is as fresh as the scrape; returns one
 *   entry per partition of each consumed topic.
 */
export function createRouterMetrics(
  registry: Registry,
  lag: () => Promise<{ topic: string; partition: number; lag: number }[]>,
): RouterMetrics {
  const registers = [registry];
  return {
    consumed: new Counter({
      name: 'alerts_sync_router_events_consumed_total',
      help: 'Kafka messages the router consumed, by topic and event type',
      labelNames: ['topic', 'event_type'],
      registers,
    }),
    deadLettered: new Counter({
      name: 'alerts_sync_router_events_dead_lettered_total',
      help: 'Messages written to the dead-letter topic, by reason category',
      labelNames: ['reason'],
      registers,
    }),
    skipped: new Counter({
      name: 'alerts_sync_router_events_skipped_total',
      help: 'Messages deliberately not synced, by reason',
      labelNames: ['reason'],
      registers,
    }),
    syncRequests: new Counter({
      name: 'alerts_sync_router_sync_requests_total',
      help: 'Sync requests Temporal accepted (signal-with-start), by kind: resync or alert-sync',
      labelNames: ['kind'],
      registers,
    }),
    temporalRetries: new Counter({
      name: 'alerts_sync_router_temporal_unavailable_retries_total',
      help: 'Sync requests retried because Temporal did not accept them',
      registers,
    }),
    consumerLag: new Gauge({
      name: 'alerts_sync_router_consumer_lag',
      help: "Messages not yet committed by the router's consumer group, by topic and partition",
      labelNames: ['topic', 'partition'],
      registers,
      async collect() {
        const partitions = await lag();
        this.reset();
        for (const p of partitions) this.set({ topic: p.topic, partition: String(p.partition) }, p.lag);
      },
    }),
  };
}

/**
 * A bounded label for a dead-letter reason: the reason text names offsets, fields and prisoner numbers, which
 * would make one time series per message.
 */
export function deadLetterCategory(reason: string): string {
  if (reason.startsWith('message has no value')) return 'no-value';
  if (reason.startsWith('value is not JSON')) return 'not-json';
  if (reason.startsWith('value is not a JSON object')) return 'not-an-object';
  if (reason.startsWith('eventType:')) return 'no-event-type';
  if (reason.startsWith('Temporal refused')) return 'temporal-refused';
  if (reason.includes('is not one the router consumes')) return 'unknown-topic';
  if (reason.includes('does not match the contract')) return 'contract-violation';
  return 'invalid-event';
}

/** Calls `fn` at most once per `ttlMs`, sharing the answer: a scrape or probe every second stays cheap. */
export function cached<T>(ttlMs: number, fn: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at > ttlMs) {
      const value = fn();
      last = { at: now, value };
      // A failure is not cached: the next call tries again.
      value.catch(() => (last = undefined));
    }
    return last.value;
  };
}

export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

/** High watermark minus the group's committed offset; a partition the group never committed counts from its start. */
export function partitionLags(
  topic: string,
  watermarks: { partition: number; high: string; low: string }[],
  committed: { partition: number; offset: string }[],
): PartitionLag[] {
  const byPartition = new Map(committed.map((c) => [c.partition, Number(c.offset)]));
  return watermarks.map(({ partition, high, low }) => {
    const offset = byPartition.get(partition);
    const from = offset === undefined || offset < 0 ? Number(low) : offset;
    return { topic, partition, lag: Math.max(0, Number(high) - from) };
  });
}
