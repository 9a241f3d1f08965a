import type { Client } from '@temporalio/client';
import type { Admin, Message, Producer } from 'kafkajs';
import type { ApiClients } from '../../adapters/clients';
import type { Db } from '../../adapters/db';
import type { Config } from '../../common/config';
import type { Simulators } from '../../simulators';
import { createPrisonerRequestSchema } from '../../simulators/nomis';
import type { Options } from './options';

// What every phase of the full benchmark works with, and what it gives back.

export const ALERT_CODES = ['XA', 'HA', 'XSA', 'HS'];

export interface Bench {
  options: Options;
  config: Config;
  runId: string;
  taskQueue: string;
  topics: { offenderEvents: string; domainEvents: string; dlq: string };
  consumerGroup: string;
  simulators: Simulators;
  apis: ApiClients;
  db: Db;
  client: Client;
  admin: Admin;
  producer: Producer;
  /** Rejects when the worker or the router exits during the run; phases race it so a dead process cannot hang. */
  processDied: Promise<never>;
  prisonNumbers(phaseIndex: number, count: number): string[];
}

/** A phase's headline number (compared with its target) and what else it measured. */
export interface PhaseOutcome {
  value: number;
  details: Record<string, unknown>;
}

export interface PhaseResult {
  phase: string;
  unit: string;
  target?: string;
  /** Whether `value` meets the target; absent without either. */
  met?: boolean;
  value?: number;
  /** The printed figure; absent when refused. */
  figure?: string;
  refused?: string;
  details: Record<string, unknown>;
}

/** A phase that ran but whose figure must not be printed: failed runs, dead letters, invariant violations. */
export class PhaseRefused extends Error {
  constructor(
    readonly problems: string[],
    readonly details: Record<string, unknown> = {},
  ) {
    super(problems.join('; '));
  }
}

const startedAt = Date.now();
export function progress(message: string): void {
  console.error(`[bench ${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)}s] ${message}`);
}

/** Each phase's prisoners are fresh in NOMIS; seeded by a direct call, as HTTP would cost 10k round trips. */
export function seedPrisoners(bench: Bench, prisonNumbers: string[]): void {
  for (const offenderNo of prisonNumbers) {
    bench.simulators.nomis.createPrisoner(
      createPrisonerRequestSchema.parse({
        offenderNo,
        alerts: ALERT_CODES.map((alertCode, i) => ({ alertCode, date: `2024-0${i + 1}-01`, comment: 'bench' })),
      }),
    );
  }
}

/** A `prisoner.received` domain event, as the prisoner search service publishes it. */
export function received(prisonNumber: string, reason: string, occurredAt: Date): Message {
  return {
    key: prisonNumber,
    value: JSON.stringify({
      eventType: 'prisoner-offender-search.prisoner.received',
      version: 1,
      occurredAt: occurredAt.toISOString(),
      additionalInformation: { nomsNumber: prisonNumber, reason, prisonId: 'MDI' },
      personReference: { identifiers: [{ type: 'NOMS', value: prisonNumber }] },
    }),
  };
}
