import { z } from 'zod';
import { dpsAlertSchema } from '../common/contract';
import { TokenStore, authRoutes, DPS_ROLE, NOMIS_ROLE } from './auth';
import { AwkwardSwitches } from './awkward';
import type { ClientCredentials } from './auth';
import { DpsState, dpsApiRoutes } from './dps';
import { EventPublisher } from './events';
import type { KafkaOptions, SimLog } from './events';
import { FaultInjector, faultStatsSchema } from './faults';
import { startServer } from './http';
import type { ApiName, Gate, Route, SimServer } from './http';
import { NomisState, nomisApiRoutes, nomisPrisonerViewSchema } from './nomis';
import { createRng, seedFromEnv } from './random';
import { simulatorControlRoutes } from './control-routes';

// The three simulated systems in one process, sharing tokens, faults and the event publisher.
// Their control API (no token, never faulted) is in control-routes.ts.

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

/** What `GET /__sim/state` answers. */
export const simulatorStateSchema = z.object({
  nomis: z.array(nomisPrisonerViewSchema),
  dps: z.record(z.array(dpsAlertSchema)),
  faults: faultStatsSchema,
  tokens: z.object({ activeTokens: z.number().int(), issued: z.number().int() }),
  eventsPublished: z.number().int(),
});
export type SimulatorState = z.infer<typeof simulatorStateSchema>;

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

const DEFAULT_CLIENTS: Record<string, ClientCredentials> = {
  'alerts-sync': { secret: 'alerts-sync-secret', roles: [NOMIS_ROLE, DPS_ROLE] },
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

type Parts = Omit<Simulators, 'urls' | 'close'> & { awkward: AwkwardSwitches };

/** The simulated systems' state, which the three servers share. */
async function createParts(options: SimulatorOptions, log: SimLog): Promise<Parts> {
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
  return { nomis, dps, faults, tokens, awkward, events, state, reset };
}

export async function startSimulators(options: SimulatorOptions = {}): Promise<Simulators> {
  const host = options.host ?? '127.0.0.1';
  const log: SimLog = options.log ?? (() => undefined);
  const parts = await createParts(options, log);
  const { nomis, dps, faults, tokens, events, state, reset } = parts;
  const controlRoutes = simulatorControlRoutes(parts, log);
  const gate = apiGate(faults, tokens, log);
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

/** Before a contract API route: the fault rules first (a test may fault auth itself), then the token. */
function apiGate(faults: FaultInjector, tokens: TokenStore, log: SimLog): Gate {
  return async (request) => {
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
}
