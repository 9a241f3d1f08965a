import { Kafka, logLevel } from 'kafkajs';
import type { KafkaConfig, Producer } from 'kafkajs';
import { z } from 'zod';
import type { Rng } from './random';
import { offsetDateTime } from './time';

// Every state change of the simulated NOMIS and DPS is published like the real systems do (contract §1).
// Publishing never blocks an HTTP answer, as in the real services where events leave through an outbox;
// messages still leave in the order the changes happened, which is what per-prisoner ordering relies on.

/** One line per operation, tagged with the simulator it happened in. */
export type SimLog = (component: 'nomis' | 'dps' | 'auth' | 'faults' | 'events' | 'sim', message: string) => void;

/** Brokers with their SSL / SASL settings (adapters/kafka.ts kafkaConnectionOptions), and topic names. */
export type KafkaOptions = Pick<KafkaConfig, 'brokers' | 'ssl' | 'sasl'> & { topics: Record<TopicName, string> };

/** An event as kept in memory and answered by `GET /__sim/events`. */
export const publishedEventSchema = z.object({
  topic: z.enum(['offenderEvents', 'domainEvents']),
  key: z.string(),
  value: z.record(z.unknown()),
  publishedAt: z.string(),
});
export type PublishedEvent = z.infer<typeof publishedEventSchema>;
export type TopicName = PublishedEvent['topic'];

const RECENT_LIMIT = 1000;

export class EventPublisher {
  private readonly recentEvents: PublishedEvent[] = [];
  private producer: Producer | undefined;
  private pending: PublishedEvent[] = [];
  private draining: Promise<void> | undefined;
  private readonly listeners: Array<(event: PublishedEvent) => void> = [];

  constructor(
    private readonly kafka: KafkaOptions | null,
    private readonly onError: (message: string) => void = () => undefined,
    /** The chance an event goes to Kafka twice (a producer retry after a lost ack); 0 = never. */
    private readonly redeliveryRate: () => number = () => 0,
    private readonly rng: Rng = Math.random,
  ) {}

  async connect(): Promise<void> {
    if (!this.kafka) return;
    const { brokers, ssl, sasl } = this.kafka;
    const client = new Kafka({ clientId: 'alerts-simulators', brokers, ssl, sasl, logLevel: logLevel.ERROR });
    const producer = client.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    this.producer = producer;
  }

  onPublish(listener: (event: PublishedEvent) => void): void {
    this.listeners.push(listener);
  }

  publish(topic: TopicName, key: string, value: Record<string, unknown>): void {
    const event: PublishedEvent = { topic, key, value, publishedAt: new Date().toISOString() };
    this.recentEvents.push(event);
    if (this.recentEvents.length > RECENT_LIMIT) this.recentEvents.splice(0, this.recentEvents.length - RECENT_LIMIT);
    for (const listener of this.listeners) listener(event);
    if (!this.producer) return;
    this.pending.push(event);
    // Only Kafka sees the second copy: recent() is what happened, Kafka is what consumers are handed.
    const rate = this.redeliveryRate();
    if (rate > 0 && this.rng() < rate) this.pending.push(event);
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  /** The last events published, oldest first; what a test without Kafka asserts on. */
  recent(filter?: { topic?: TopicName; key?: string }): PublishedEvent[] {
    return this.recentEvents.filter(
      (event) =>
        (filter?.topic === undefined || event.topic === filter.topic) &&
        (filter?.key === undefined || event.key === filter.key),
    );
  }

  clearRecent(): void {
    this.recentEvents.length = 0;
  }

  /** Waits until everything published so far has been handed to Kafka. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.producer?.disconnect();
    this.producer = undefined;
  }

  private async drain(): Promise<void> {
    const producer = this.producer;
    const kafka = this.kafka;
    if (!producer || !kafka) return;
    while (this.pending.length > 0) {
      // One batch per drain keeps order (a batch is written in order) and keeps up with bursts such as seeding.
      const batch = this.pending;
      this.pending = [];
      const topicMessages = (['offenderEvents', 'domainEvents'] as const)
        .map((topic) => ({
          topic: kafka.topics[topic],
          messages: batch
            .filter((event) => event.topic === topic)
            .map((event) => ({ key: event.key, value: JSON.stringify(event.value) })),
        }))
        .filter((entry) => entry.messages.length > 0);
      try {
        await producer.sendBatch({ topicMessages });
      } catch (err) {
        // kafkajs has already retried; a lost event is what a real outage looks like, so report it and go on.
        this.onError(`could not publish ${batch.length} event(s): ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

/** The domain-event envelope of contract §1.2. */
export function domainEvent(
  eventType: string,
  prisonNumber: string,
  description: string,
  additionalInformation: Record<string, unknown>,
): Record<string, unknown> {
  return {
    eventType,
    version: 1,
    occurredAt: offsetDateTime(),
    description,
    additionalInformation,
    personReference: { identifiers: [{ type: 'NOMS', value: prisonNumber }] },
  };
}
