import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { prisonerSyncWorkflowId } from '../../common/ids';
import type { Logger } from '../../common/logger';
import type { SyncSwitches } from '../../common/sync-switches';
import type { RouterMetrics } from '../../adapters/metrics';
import { deadLetterCategory } from '../../adapters/metrics';
import { requestSync } from '../../adapters/temporal';
import type { SyncRequest } from '../../workflows/messages';
import type { RouteDecision, SyncTarget, Topics } from './route';
import { DonePrefix, lanesByKey, runLanes, runLength } from './lanes';
import { routeMessage } from './route';

export interface EventRouterOptions {
  kafka: Kafka;
  temporal: Client;
  taskQueue: string;
  groupId: string;
  topics: Topics & { dlq: string };
  /** The switches in force now (adapters/live-switches.ts), read for every run of messages, and again before a retry. */
  switches: () => Promise<SyncSwitches>;
  logger: Logger;
  /** Backoff while Temporal is unreachable; the partition waits, nothing is committed or dead-lettered. */
  temporalRetry?: { initialMs: number; maxMs: number; deadlineMs: number };
  /** Prometheus counters (adapters/metrics.ts); the snapshot() counters are kept either way. */
  metrics?: RouterMetrics;
  /** Partitions handled side by side (ROUTER_PARTITIONS_AT_ONCE; default PARTITIONS_AT_ONCE). */
  partitionsAtOnce?: number;
  /** Prisoners (Kafka keys) of one partition's batch side by side (ROUTER_LANES_PER_PARTITION; LANES_PER_PARTITION). */
  lanesPerPartition?: number;
  /** Requests of one prisoner in one signal at most (ROUTER_REQUESTS_PER_SIGNAL; REQUESTS_PER_SIGNAL). */
  requestsPerSignal?: number;
}

/**
 * A NOMIS batch job can publish thousands of events in minutes; one signal-with-start at a time (a few ms each)
 * would not keep up. More lanes than this gain little on a small Temporal and only add to its queue.
 */
const PARTITIONS_AT_ONCE = 6;
const LANES_PER_PARTITION = 16;

/** Requests of one prisoner in one signal at most (ROUTER_REQUESTS_PER_SIGNAL; 1: one signal per event). */
const REQUESTS_PER_SIGNAL = 50;
/**
 * A run's requests travel in one gRPC message, whose limits (Temporal's 2 MiB per payload, the frontend's 4 MiB
 * per message) a run must stay well within: too large, the server answers RESOURCE_EXHAUSTED, which the router
 * takes for a busy Temporal and would wait on for ever. Fields such as a reason are free text from the events.
 */
const MAX_SIGNAL_BYTES = 256 * 1024;

export type RouterCounters = Record<string, number>;

const ACCEPTED = Symbol('accepted');
const SWITCHES_CHANGED = Symbol('switches changed');

function sameSwitches(a: SyncSwitches, b: SyncSwitches): boolean {
  return a.resyncSource === b.resyncSource && a.nomisToDps === b.nomisToDps && a.dpsToNomis === b.dpsToNomis;
}

/** A consumed message, what it means (route.ts), and the size of the requests it asks for. */
interface Routed {
  message: KafkaMessage;
  decision: RouteDecision;
  bytes: number;
}

function requestBytes(decision: RouteDecision): number {
  return decision.action === 'sync' ? Buffer.byteLength(JSON.stringify(decision.targets)) : 0;
}

/** The prisoner when the message asks one sync of one prisoner, else undefined (it is then handled alone). */
function onlyPrisoner({ decision }: Routed): string | undefined {
  return decision.action === 'sync' && decision.targets.length === 1 ? decision.targets[0]?.prisonNumber : undefined;
}

/**
 * Consumes both topics and turns each message into Temporal workflow starts/signals. At-least-once: an offset is
 * committed only once it and every message before it on its partition are done, i.e. Temporal accepted every
 * signal-with-start they caused, or they were written to the dead-letter topic. Each prisoner's events are
 * handled in order; different prisoners' side by side (lanes.ts).
 *
 * The file is some 400 lines, kept whole: what a message means is route.ts's and how lanes run is lanes.ts's;
 * what is left here — fetch, hand to Temporal, dead-letter, commit — shares the offsets each step must respect,
 * and split across files the at-least-once rule would have no one place to be read.
 */
export class EventRouter {
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly counters: RouterCounters = {};
  private stopping = false;
  private member = false;

  constructor(private readonly options: EventRouterOptions) {
    this.consumer = options.kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
    this.producer = options.kafka.producer({ allowAutoTopicCreation: true, idempotent: false });
    // Readiness follows group membership: a router that connected but has no partitions consumes nothing.
    const { GROUP_JOIN, CRASH, DISCONNECT, STOP } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, () => (this.member = true));
    for (const left of [CRASH, DISCONNECT, STOP]) this.consumer.on(left, () => (this.member = false));
  }

  /** True while the consumer is a member of its group (joined, not crashed, stopped or disconnected). */
  hasJoinedGroup(): boolean {
    return this.member && !this.stopping;
  }

  async start(): Promise<void> {
    const { topics } = this.options;
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = [topics.offenderEvents, topics.domainEvents, topics.dlq].filter((t) => !existing.has(t));
      if (missing.length)
        await admin.createTopics({
          topics: missing.map((topic) => ({ topic, numPartitions: 3 })),
          waitForLeaders: true,
        });
    } finally {
      await admin.disconnect();
    }
    await this.producer.connect();
    await this.consumer.connect();
    // A new consumer group starts from the beginning: events published before the router first ran are not lost.
    await this.consumer.subscribe({ topics: [topics.offenderEvents, topics.domainEvents], fromBeginning: true });
    await this.consumer.run({
      partitionsConsumedConcurrently: this.options.partitionsAtOnce ?? PARTITIONS_AT_ONCE,
      eachBatchAutoResolve: false,
      // Commit what is done at the end of every batch, not every 5 s (kafkajs's default): less to redeliver.
      autoCommitThreshold: 1,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    this.options.logger.info('router consuming', {
      topics: [topics.offenderEvents, topics.domainEvents],
      groupId: this.options.groupId,
    });
  }

  /** Finishes the message in hand, commits, leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer.disconnect();
    await this.producer.disconnect();
    this.options.logger.info('router stopped', { counters: this.counters });
  }

  snapshot(): RouterCounters {
    return { ...this.counters };
  }

  private count(key: string): void {
    this.counters[key] = (this.counters[key] ?? 0) + 1;
  }

  /**
   * Lanes of one key each side by side; within a lane, runs of requests for one prisoner in one signal each. The
   * offset moves only over messages that are done (lanes.ts).
   */
  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    const done = new DonePrefix(batch.messages.map((m) => m.offset));
    try {
      await runLanes(
        lanesByKey(batch.messages),
        this.options.lanesPerPartition ?? LANES_PER_PARTITION,
        async (lane, start) => {
          const { run, switches } = await this.nextRun(topic, partition, lane, start);
          if (!(await this.handleRun(topic, partition, run, switches, heartbeat))) return 0; // decided again
          for (const { message } of run) {
            const committable = done.finish(message.offset);
            if (committable !== undefined) resolveOffset(committable);
          }
          return run.length;
        },
        () => !isRunning() || isStale(),
      );
    } finally {
      // What is done is committed even when a lane failed: only the rest is redelivered.
      await commitOffsetsIfNecessary();
    }
  }

  /**
   * The lane's next message and what it means, with the consecutive ones that ask a sync of the same prisoner
   * (lanes.ts runLength), all decided with the switches in force now, not when the batch was fetched (and again
   * by handleRun if they change while Temporal is unreachable).
   */
  private async nextRun(topic: string, partition: number, lane: readonly KafkaMessage[], start: number) {
    const switches = await this.options.switches();
    const decided = new Map<KafkaMessage, Routed>();
    const routed = (message: KafkaMessage): Routed => {
      let item = decided.get(message);
      if (!item) {
        const decision = routeMessage({ topics: this.options.topics, switches }, topic, message.value, {
          partition,
          offset: message.offset,
        });
        item = { message, decision, bytes: requestBytes(decision) };
        decided.set(message, item);
      }
      return item;
    };
    const maxRequests = this.options.requestsPerSignal ?? REQUESTS_PER_SIGNAL;
    const length = runLength(
      lane,
      start,
      (message) => onlyPrisoner(routed(message)),
      (run) => run.length <= maxRequests && run.reduce((sum, m) => sum + routed(m).bytes, 0) <= MAX_SIGNAL_BYTES,
    );
    return { run: lane.slice(start, start + length).map(routed), switches };
  }

  /**
   * One message, or several that each ask one sync of the same prisoner: those in one signal-with-start. False
   * when the switches changed while Temporal was unreachable: nothing was sent, and the lane decides again.
   */
  private async handleRun(
    topic: string,
    partition: number,
    run: Routed[],
    switches: SyncSwitches,
    heartbeat: () => Promise<void>,
  ): Promise<boolean> {
    const [first] = run;
    const prisonNumber = first && onlyPrisoner(first);
    if (!first || prisonNumber === undefined) {
      // A skip, a dead letter, or a sync of two prisoners (merge, booking move): decided once, as consumed.
      for (const { decision } of run) this.consumed(topic, decision);
      for (const item of run) await this.act(topic, partition, item, heartbeat);
      return true;
    }
    const outcome = await this.requestSync(
      prisonNumber,
      run.flatMap(({ decision }) => (decision.action === 'sync' ? [(decision.targets[0] as SyncTarget).request] : [])),
      heartbeat,
      async () => sameSwitches(await this.options.switches(), switches),
    );
    if (outcome === SWITCHES_CHANGED) return false;
    for (const { decision } of run) this.consumed(topic, decision);
    if (typeof outcome === 'string') {
      if (run.length === 1) {
        await this.deadLetterRefused(topic, partition, first.message, prisonNumber, outcome);
        return true;
      }
      // Refused as a whole: one by one, so only a request Temporal refuses on its own is dead-lettered.
      this.options.logger.warn(`${prisonNumber}: Temporal refused ${run.length} requests in one signal; one by one`, {
        topic,
        partition,
        offsets: `${first.message.offset}-${run[run.length - 1]?.message.offset}`,
        refused: outcome,
      });
      for (const item of run) await this.act(topic, partition, item, heartbeat);
      return true;
    }
    for (const item of run) {
      if (item.decision.action === 'sync')
        this.syncRequested(topic, partition, item, item.decision.eventType, item.decision.targets[0] as SyncTarget);
    }
    return true;
  }

  private consumed(topic: string, decision: RouteDecision): void {
    this.count('messages');
    // Unknown event types are free text: one label value for all of them keeps the series count bounded.
    const eventType =
      decision.action === 'dead-letter'
        ? 'invalid'
        : decision.action === 'skip' && decision.reason === 'unknown-event-type'
          ? 'other'
          : decision.eventType;
    this.options.metrics?.consumed.inc({ topic, event_type: eventType });
  }

  private syncRequested(
    topic: string,
    partition: number,
    { message }: Routed,
    eventType: string,
    target: SyncTarget,
  ): void {
    this.count(target.request.kind === 'resync' ? 'resync-requested' : 'alert-sync-requested');
    this.options.metrics?.syncRequests.inc({ kind: target.request.kind === 'resync' ? 'resync' : 'alert-sync' });
    this.options.logger.info(
      `${target.prisonNumber} ${eventType} -> ${target.request.kind} requested: ${target.request.reason}`,
      {
        topic,
        partition,
        offset: message.offset,
        workflowId: prisonerSyncWorkflowId(target.prisonNumber),
      },
    );
  }

  /** Carries out one message's decision (it was counted as consumed already). */
  private async act(topic: string, partition: number, routed: Routed, heartbeat: () => Promise<void>): Promise<void> {
    const { message, decision } = routed;
    const where = { topic, partition, offset: message.offset };
    switch (decision.action) {
      case 'dead-letter':
        await this.deadLetter(topic, partition, message, decision.reason);
        return;
      case 'skip':
        this.count(`skipped:${decision.reason}`);
        this.options.metrics?.skipped.inc({ reason: decision.reason });
        this.options.logger.info(
          `${decision.prisonNumber ?? '-'} ${decision.eventType} skipped (${decision.reason}): ${decision.detail}`,
          where,
        );
        return;
      case 'sync':
        for (const target of decision.targets) {
          // Decided once, as consumed: a sync of two prisoners is not decided again half sent.
          const outcome = await this.requestSync(target.prisonNumber, [target.request], heartbeat);
          if (typeof outcome === 'string') {
            await this.deadLetterRefused(topic, partition, message, target.prisonNumber, outcome);
            continue;
          }
          this.syncRequested(topic, partition, routed, decision.eventType, target);
        }
        return;
    }
  }

  /**
   * ACCEPTED once Temporal accepted the requests; the reason when it never will (invalid argument); or, when
   * `stillDecided` says the switches they were decided with changed while Temporal was unreachable,
   * SWITCHES_CHANGED before trying again.
   */
  private async requestSync(
    prisonNumber: string,
    requests: SyncRequest[],
    heartbeat: () => Promise<void>,
    stillDecided?: () => Promise<boolean>,
  ): Promise<typeof ACCEPTED | typeof SWITCHES_CHANGED | string> {
    // Capped well below the consumer session timeout, since we heartbeat between attempts.
    const { initialMs, maxMs, deadlineMs } = this.options.temporalRetry ?? {
      initialMs: 500,
      maxMs: 10_000,
      deadlineMs: 10_000,
    };
    const { temporal } = this.options;
    for (let attempt = 1; ; attempt++) {
      try {
        // Signal-with-start: joins the prisoner's running resync, or starts one. Never two side by side.
        // A deadline, so an unreachable Temporal fails the attempt instead of blocking past the session timeout.
        await temporal.withDeadline(Date.now() + deadlineMs, () =>
          requestSync(temporal, this.options.taskQueue, prisonNumber, requests),
        );
        if (attempt > 1) this.options.logger.info('Temporal reachable again, consuming', { prisonNumber });
        return ACCEPTED;
      } catch (err) {
        const refused = permanentRefusal(err);
        if (refused) return refused;
        if (this.stopping) throw err; // not committed: redelivered when the router comes back
        const delay = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 10));
        this.count('temporal-unavailable-retries');
        this.options.metrics?.temporalRetries.inc();
        this.options.logger.warn(
          `Temporal did not accept the sync request for ${prisonNumber}; partition paused, retrying in ${delay} ms`,
          {
            attempt,
            error: err instanceof Error ? err.message : String(err),
          },
        );
        await sleep(delay);
        // Stay in the group while waiting, or the partition would move to another consumer mid-retry.
        await heartbeat().catch(() => undefined);
        if (stillDecided && !(await stillDecided())) {
          this.options.logger.info(
            `${prisonNumber}: the switches changed while Temporal was unreachable; deciding again`,
          );
          return SWITCHES_CHANGED;
        }
      }
    }
  }

  /** Never accepted, however often it is tried: the partition must not wait on it for ever. */
  private deadLetterRefused(
    topic: string,
    partition: number,
    message: KafkaMessage,
    prisonNumber: string,
    refused: string,
  ): Promise<void> {
    return this.deadLetter(
      topic,
      partition,
      message,
      `Temporal refused the sync request for ${prisonNumber}: ${refused}`,
    );
  }

  /** The message, unchanged, to the dead-letter topic with the reason (contract §1.3); counted and logged. */
  private async deadLetter(topic: string, partition: number, message: KafkaMessage, reason: string): Promise<void> {
    await this.producer.send({
      topic: this.options.topics.dlq,
      messages: [
        {
          key: message.key,
          value: message.value,
          headers: {
            ...message.headers,
            'dlq-reason': reason,
            'dlq-source-topic': topic,
            'dlq-source-partition': String(partition),
            'dlq-source-offset': message.offset,
            'dlq-at': new Date().toISOString(),
          },
        },
      ],
    });
    this.count('dead-lettered');
    this.options.metrics?.deadLettered.inc({ reason: deadLetterCategory(reason) });
    this.options.logger.warn(`dead-lettered: ${reason}`, { topic, partition, offset: message.offset });
  }
}

/** gRPC INVALID_ARGUMENT: the request itself is wrong (an id or payload over a limit), so no retry can succeed. */
const INVALID_ARGUMENT = 3;

/** The reason Temporal will never accept this request, or undefined when trying again may work. */
export function permanentRefusal(err: unknown): string | undefined {
  const grpc = err instanceof ServiceError && isGrpcServiceError(err.cause) ? err.cause : err;
  if (!isGrpcServiceError(grpc)) return undefined;
  return grpc.code === INVALID_ARGUMENT ? `INVALID_ARGUMENT: ${grpc.details || grpc.message}` : undefined;
}
