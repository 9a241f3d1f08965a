import { z } from 'zod';
import { TokenStore, authRoutes, DPS_ROLE, NOMIS_ROLE } from './auth';
import { AwkwardSwitches, setAwkwardnessRequestSchema } from './awkward';
import type { ClientCredentials } from './auth';
import { DpsState, dpsApiRoutes } from './dps';
import { EventPublisher } from './events';
import type { KafkaOptions, SimLog, TopicName } from './events';
import { FaultInjector, setFaultsRequestSchema } from './faults';
import { body, json, noContent, startServer } from './http';
import type { ApiName, Gate, Route, SimServer } from './http';
import { NomisState, nomisApiRoutes, nomisControlRoutes } from './nomis';
import { createRng, seedFromEnv } from './random';
import { seedDemoPrisoners } from './seed';

// The three simulated systems in one process, sharing tokens, faults and the event publisher.
//
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

export { NOMIS_ROLE, DPS_ROLE } from './auth';

export interface SimulatorOptions {
  host?: string;
  /** 0 = any free port (tests). */
  nomisPort?: number;
  dpsPort?: number;
  authPort?: number;
  /** null or absent = publish nothing to Kafka; events are still kept in memory (`events.recent()`). */
  kafka?: KafkaOptions | null;
  clients?: Record<string, ClientCredentials>;
  tokenTtlSeconds?: number;
  /** Seed of the fault RNG; default SIM_RANDOM_SEED, else random. */
  randomSeed?: number;
  /** First bookingId NOMIS hands out (default 1200000, which the demo scenarios rely on). */
  firstBookingId?: number;
  log?: SimLog;
}

export interface SimulatorState {
  nomis: ReturnType<NomisState['dump']>;
  dps: ReturnType<DpsState['dump']>;
  faults: ReturnType<FaultInjector['stats']>;
  tokens: ReturnType<TokenStore['stats']>;
  eventsPublished: number;
}

export interface Simulators {
  urls: { nomis: string; dps: string; auth: string };
  nomis: NomisState;
  dps: DpsState;
  faults: FaultInjector;
  tokens: TokenStore;
  events: EventPublisher;
  state(offenderNo?: string): SimulatorState;
  reset(): void;
  close(): Promise<void>;
}

export const DEFAULT_CLIENTS: Record<string, ClientCredentials> = {
  'alerts-sync': { secret: 'alerts-sync-secret', roles: [NOMIS_ROLE, DPS_ROLE] },
};

const seedRequestSchema = z
  .object({ count: z.number().int().min(0).max(100_000).optional(), seed: z.number().int().optional() })
  .default({});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export async function startSimulators(options: SimulatorOptions = {}): Promise<Simulators> {
  const host = options.host ?? '127.0.0.1';
  const log: SimLog = options.log ?? (() => undefined);
  const seed = options.randomSeed ?? seedFromEnv();
  const awkward = new AwkwardSwitches();
  const events = new EventPublisher(
    options.kafka ?? null,
    (message) => log('events', message),
    () => awkward.get().redeliveryRate,
    createRng(seed + 1),
  );
  await events.connect();
  const tokens = new TokenStore(options.clients ?? DEFAULT_CLIENTS, options.tokenTtlSeconds ?? 1200);
  const faults = new FaultInjector(seed);
  const nomis = new NomisState(events, log, options.firstBookingId, awkward);
  const dps = new DpsState(events, log);

  const state = (offenderNo?: string): SimulatorState => {
    const dpsAlerts = dps.dump();
    return {
      nomis: offenderNo === undefined ? nomis.dump() : nomis.dump().filter((p) => p.offenderNo === offenderNo),
      dps: offenderNo === undefined ? dpsAlerts : { [offenderNo]: dpsAlerts[offenderNo] ?? [] },
      faults: faults.stats(),
      tokens: tokens.stats(),
      eventsPublished: events.recent().length,
    };
  };
  const reset = () => {
    nomis.reset();
    dps.reset();
    faults.reset();
    tokens.reset();
    awkward.reset();
    events.clearRecent();
  };

  const controlRoutes: Route[] = [
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
    ...nomisControlRoutes(nomis, log),
  ];

  const gate: Gate = async (request) => {
    const api = request.route.api as ApiName;
    const decision = faults.decide(api, request.method, request.path, request.route.pattern);
    if (decision) {
      if (decision.latencyMs > 0) await sleep(decision.latencyMs);
      if (decision.then === 'hang') {
        log('faults', `${api} ${request.method} ${request.path}: hanging`);
        return 'hang';
      }
      if (decision.then !== 'pass') {
        log('faults', `${api} ${request.method} ${request.path}: injected ${decision.then.status}`);
        return decision.then;
      }
    }
    if (request.route.role) tokens.authorise(request, request.route.role);
    return undefined;
  };

  const onError = (err: unknown) => log('sim', `unexpected error: ${err instanceof Error ? err.stack : String(err)}`);
  const servers: SimServer[] = [];
  const start = async (port: number | undefined, apiRoutes: Route[]) => {
    const server = await startServer({
      host,
      port: port ?? 0,
      routes: [...controlRoutes, ...apiRoutes],
      gate,
      onError,
    });
    servers.push(server);
    return server.url;
  };
  try {
    const urls = {
      nomis: await start(options.nomisPort, nomisApiRoutes(nomis)),
      dps: await start(options.dpsPort, dpsApiRoutes(dps)),
      auth: await start(options.authPort, authRoutes(tokens)),
    };
    return {
      urls,
      nomis,
      dps,
      faults,
      tokens,
      events,
      state,
      reset,
      close: async () => {
        await Promise.all(servers.map((server) => server.close()));
        await events.close();
      },
    };
  } catch (err) {
    await Promise.all(servers.map((server) => server.close()));
    await events.close();
    throw err;
  }
}
