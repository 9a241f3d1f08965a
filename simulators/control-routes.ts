import { z } from 'zod';
import type { AwkwardSwitches } from './awkward';
import { setAwkwardnessRequestSchema } from './awkward';
import type { TokenStore } from './auth';
import type { EventPublisher, SimLog, TopicName } from './events';
import type { FaultInjector } from './faults';
import { setFaultsRequestSchema } from './faults';
import { body, json, noContent } from './http';
import type { Route } from './http';
import { nomisControlRoutes } from './nomis';
import type { NomisState } from './nomis';
import { createRng } from './random';
import { seedDemoPrisoners } from './seed';

// Control API (no token, never faulted), served identically by all three servers:
//   GET    /health                                          liveness
//   GET    /__sim/state[?offenderNo=]                        NOMIS prisoners, DPS alerts, faults, counters, tokens
//   POST   /__sim/reset                                      clear all state, faults, counters, tokens, events
//   GET    /__sim/events[?topic=&key=&limit=]                events published since the last reset (newest last)
//   POST   /__sim/faults  [rules] | { rules, seed }          replace the fault rules (see faults.ts)
//   GET    /__sim/faults                                     rules with how often each fired
//   DELETE /__sim/faults                                     clear the rules
//   GET    /__sim/awkward                                   the awkward behaviours switched on (awkward.ts)
//   POST   /__sim/awkward { reuseAlertSequences?, omitAuditModuleName?, redeliveryRate? }   switch them
//   POST   /__sim/auth/expire-tokens                         every issued token now gets 401
//   POST   /__sim/seed { count?, seed? }                     the demo prisoners (seed.ts)
//   POST   /__sim/nomis/prisoners                            create a prisoner (no event)
//   GET    /__sim/nomis/prisoners/{offenderNo}               one prisoner's bookings and alerts
//   POST   /__sim/nomis/prisoners/{offenderNo}/alerts        a NOMIS user adds an alert (OIDALERT)
//   PUT    /__sim/nomis/bookings/{bookingId}/alerts/{seq}    a NOMIS user changes an alert (partial body)
//   DELETE /__sim/nomis/bookings/{bookingId}/alerts/{seq}    a NOMIS user deletes an alert
//   POST   /__sim/nomis/prisoners/{offenderNo}/bookings      new admission (received NEW_ADMISSION)
//   POST   /__sim/nomis/prisoners/{offenderNo}/receive-previous   { bookingId? } (READMISSION_SWITCH_BOOKING)
//   POST   /__sim/nomis/bookings/{bookingId}/move            { toOffenderNo, fromOffenderNo? } (booking.moved)
//   POST   /__sim/nomis/merge                                { retainedOffenderNo, removedOffenderNo } (merged)
// DPS users need no control endpoint: they use the DPS API without the Source header.

/** The parts of one simulator process the control API reaches; `state` and `reset` cover all of them. */
export interface ControlledParts {
  nomis: NomisState;
  faults: FaultInjector;
  tokens: TokenStore;
  awkward: AwkwardSwitches;
  events: EventPublisher;
  state(offenderNo?: string): unknown;
  reset(): void;
}

const seedRequestSchema = z
  .object({ count: z.number().int().min(0).max(100_000).optional(), seed: z.number().int().optional() })
  .default({});

/** Health, state, reset, events and seeding: looking at the simulators and setting the scene. */
function sceneRoutes({ nomis, events, state, reset }: ControlledParts, log: SimLog): Route[] {
  return [
    { method: 'GET', pattern: '/health', handler: () => json(200, { status: 'UP' }) },
    {
      method: 'GET',
      pattern: '/__sim/state',
      handler: (request) => json(200, state(request.query.get('offenderNo') ?? undefined)),
    },
    {
      method: 'POST',
      pattern: '/__sim/reset',
      handler: () => {
        reset();
        log('sim', 'reset all state');
        return noContent();
      },
    },
    {
      method: 'GET',
      pattern: '/__sim/events',
      handler: (request) => {
        const topic = request.query.get('topic');
        const key = request.query.get('key') ?? undefined;
        const limit = Number(request.query.get('limit') ?? 100);
        const found = events.recent({
          topic: topic === 'offenderEvents' || topic === 'domainEvents' ? (topic satisfies TopicName) : undefined,
          key,
        });
        return json(200, found.slice(-Math.max(limit, 0)));
      },
    },
    {
      method: 'POST',
      pattern: '/__sim/seed',
      handler: async (request) => {
        const { count, seed } = body(request, seedRequestSchema);
        const created = await seedDemoPrisoners(nomis, count ?? 20, createRng(seed ?? 1));
        log('nomis', `seeded ${created.length} demo prisoner(s)`);
        return json(201, { created });
      },
    },
  ];
}

/** The adversary's switches: fault rules, awkward behaviours, and expiring every token. */
function adversaryRoutes({ faults, awkward, tokens }: ControlledParts, log: SimLog): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/__sim/faults',
      handler: (request) => {
        faults.set(body(request, setFaultsRequestSchema));
        const stats = faults.stats();
        log('faults', `set ${stats.rules.length} fault rule(s): ${JSON.stringify(stats.rules)}`);
        return json(200, stats);
      },
    },
    { method: 'GET', pattern: '/__sim/faults', handler: () => json(200, faults.stats()) },
    {
      method: 'DELETE',
      pattern: '/__sim/faults',
      handler: () => {
        faults.clear();
        log('faults', 'cleared fault rules');
        return noContent();
      },
    },
    { method: 'GET', pattern: '/__sim/awkward', handler: () => json(200, awkward.get()) },
    {
      method: 'POST',
      pattern: '/__sim/awkward',
      handler: (request) => {
        const now = awkward.set(body(request, setAwkwardnessRequestSchema));
        log('sim', `awkward behaviours: ${JSON.stringify(now)}`);
        return json(200, now);
      },
    },
    {
      method: 'POST',
      pattern: '/__sim/auth/expire-tokens',
      handler: () => {
        const expired = tokens.expireAll();
        log('auth', `expired ${expired} token(s)`);
        return json(200, { expired });
      },
    },
  ];
}

export function simulatorControlRoutes(parts: ControlledParts, log: SimLog): Route[] {
  return [...sceneRoutes(parts, log), ...adversaryRoutes(parts, log), ...nomisControlRoutes(parts.nomis, log)];
}
