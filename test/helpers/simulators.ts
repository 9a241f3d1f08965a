import { HmppsAuthClient } from '../../adapters/auth';
import type { ResyncAlert } from '../../common/contract';
import { DPS_ROLE, NOMIS_ROLE, startSimulators } from '../../simulators';
import type { Simulators } from '../../simulators';
import { SimulatorControl } from '../../simulators/control-client';

// For the simulators' own tests (test/unit/simulators-*.test.ts), which check them against contract §2-§4: what
// the sync relies on (status codes, shapes, idempotent resync, the events each change publishes) and the fault
// injection the end-to-end tests drive. No Kafka: events are read from the simulators' in-memory log.

type Api = 'nomis' | 'dps' | 'auth';

/** Simulators on free ports with a fixed fault seed, and a second client that holds the DPS role only. */
export async function startUnitSimulators(): Promise<{ sims: Simulators; control: SimulatorControl }> {
  const sims = await startSimulators({
    nomisPort: 0,
    dpsPort: 0,
    authPort: 0,
    kafka: null,
    randomSeed: 42,
    clients: {
      'alerts-sync': { secret: 'alerts-sync-secret', roles: [NOMIS_ROLE, DPS_ROLE] },
      'dps-only': { secret: 'dps-only-secret', roles: [DPS_ROLE] },
    },
  });
  return { sims, control: new SimulatorControl(sims.urls) };
}

/**
 * Simulators for a test file: started before its tests, reset before each, closed after. The getters give the
 * running ones, with simulatorRequests' helpers bound to them.
 */
export function useUnitSimulators() {
  let sims: Simulators | undefined;
  let control: SimulatorControl | undefined;
  const running = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the simulators are started in beforeAll: use them inside a test');
    return value;
  };
  beforeAll(async () => {
    ({ sims, control } = await startUnitSimulators());
  });
  afterAll(async () => {
    await control?.close();
    await sims?.close();
  });
  beforeEach(async () => {
    await running(control).reset();
  });
  return {
    get sims(): Simulators {
      return running(sims);
    },
    get control(): SimulatorControl {
      return running(control);
    },
    ...simulatorRequests(() => running(sims)),
  };
}

/**
 * Requests on the wire, for the simulators started by a test file's beforeAll (hence `current`). Unlike the
 * product's JsonApiClient (adapters/http.ts), `call` never throws on a status and hands back the raw body and
 * headers, and sends whatever token it is told, missing or made up: those are what these tests look at.
 */
export function simulatorRequests(current: () => Simulators) {
  /** A token from the auth simulator, fetched as the product does it (adapters/auth.ts). */
  async function tokenFor(clientId = 'alerts-sync', secret = 'alerts-sync-secret', url = current().urls.auth) {
    const auth = new HmppsAuthClient(url, clientId, secret, 5_000);
    try {
      return await auth.token();
    } finally {
      await auth.close();
    }
  }

  async function call(
    api: Api,
    method: string,
    path: string,
    options: { token?: string | null; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
  ) {
    const token = options.token === undefined ? await tokenFor() : options.token;
    const response = await fetch(`${current().urls[api]}${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? (JSON.parse(text) as unknown) : undefined,
    };
  }

  const domainEvents = (key?: string) =>
    current()
      .events.recent({ topic: 'domainEvents', key })
      .map((e) => e.value);

  return { call, tokenFor, domainEvents };
}

export const message = (body: unknown) => (body as { userMessage?: string }).userMessage;

export const resyncAlert = (overrides: Partial<ResyncAlert> = {}): ResyncAlert => ({
  offenderBookId: 1_200_000,
  alertSeq: 1,
  alertCode: 'XA',
  description: 'set fire to cell',
  authorisedBy: 'Gov Smith',
  activeFrom: '2024-01-10',
  activeTo: null,
  isActive: true,
  createdAt: '2024-01-10T09:00:00',
  createdBy: 'JSMITH',
  createdByDisplayName: 'John Smith',
  lastModifiedAt: null,
  lastModifiedBy: null,
  lastModifiedByDisplayName: null,
  ...overrides,
});
