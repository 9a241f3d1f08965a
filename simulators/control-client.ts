import { z } from 'zod';
import {
  describeIssues,
  DPS_SYNC_SOURCE_HEADER,
  DPS_SYNC_SOURCE_VALUE,
  dpsAlertSchema,
  nomisAlertsToMigrateSchema,
  tokenResponseSchema,
} from '../common/contract';
import type { DpsAlert, NomisAlert, NomisAlertsToMigrate } from '../common/contract';
import type { Awkwardness, SetAwkwardnessRequest } from './awkward';
import type { PublishedEvent, TopicName } from './events';
import type { FaultInjector, FaultRule } from './faults';
import type { SimulatorState } from './index';
import type {
  CreatePrisonerRequest,
  MergeResult,
  MoveBookingResult,
  NewBookingResult,
  NomisPrisonerView,
  NomisUserAlertRequest,
  NomisUserAlertUpdate,
  ReceivePreviousResult,
} from './nomis';
import { localDate, localDateTime } from './time';

// A typed client of the simulators' control API (see index.ts), for tests, the CLI and demos. It also acts as a
// DPS user through the real DPS API (no Source header, so DPS publishes source=DPS and the sync picks it up).

export interface SimulatorUrls {
  nomis: string;
  dps: string;
  auth: string;
}

export type FaultStats = ReturnType<FaultInjector['stats']>;

/** What a DPS user types in; the rest of the create request is filled in as the DPS UI would. */
export interface DpsUserAlert {
  alertCode: string;
  activeFrom?: string;
  activeTo?: string | null;
  description?: string | null;
  authorisedBy?: string | null;
  createdBy?: string;
}

export type DpsUserAlertChanges = Partial<Pick<DpsAlert, 'description' | 'authorisedBy' | 'activeFrom' | 'activeTo'>>;

export class SimulatorControlError extends Error {
  override name = 'SimulatorControlError';
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export class SimulatorControl {
  private cachedToken: { token: string; expiresAt: number } | undefined;

  constructor(
    readonly urls: SimulatorUrls,
    private readonly credentials = { clientId: 'alerts-sync', clientSecret: 'alerts-sync-secret' },
  ) {}

  // ---- NOMIS (users and staff) ----

  createPrisoner(request: CreatePrisonerRequest): Promise<NomisPrisonerView> {
    return this.control('POST', '/__sim/nomis/prisoners', request);
  }

  getPrisoner(offenderNo: string): Promise<NomisPrisonerView> {
    return this.control('GET', `/__sim/nomis/prisoners/${enc(offenderNo)}`);
  }

  /** A NOMIS user adds an alert on the current booking (audit module OIDALERT). */
  addNomisAlert(offenderNo: string, alert: NomisUserAlertRequest): Promise<NomisAlert> {
    return this.control('POST', `/__sim/nomis/prisoners/${enc(offenderNo)}/alerts`, alert);
  }

  /** A NOMIS user changes some fields of an alert; fields left out keep their value. */
  updateNomisAlert(bookingId: number, alertSequence: number, changes: NomisUserAlertUpdate): Promise<NomisAlert> {
    return this.control('PUT', `/__sim/nomis/bookings/${bookingId}/alerts/${alertSequence}`, changes);
  }

  async deleteNomisAlert(bookingId: number, alertSequence: number): Promise<void> {
    await this.control('DELETE', `/__sim/nomis/bookings/${bookingId}/alerts/${alertSequence}`);
  }

  newBooking(offenderNo: string, prisonId?: string): Promise<NewBookingResult> {
    return this.control('POST', `/__sim/nomis/prisoners/${enc(offenderNo)}/bookings`, { prisonId });
  }

  /** Without bookingId, the most recent previous booking. */
  receiveOntoPreviousBooking(
    offenderNo: string,
    bookingId?: number,
    prisonId?: string,
  ): Promise<ReceivePreviousResult> {
    return this.control('POST', `/__sim/nomis/prisoners/${enc(offenderNo)}/receive-previous`, { bookingId, prisonId });
  }

  /** `from`, when given, must be the booking's current owner. */
  moveBooking({ bookingId, from, to }: { bookingId: number; from?: string; to: string }): Promise<MoveBookingResult> {
    return this.control('POST', `/__sim/nomis/bookings/${bookingId}/move`, { toOffenderNo: to, fromOffenderNo: from });
  }

  merge({ retained, removed }: { retained: string; removed: string }): Promise<MergeResult> {
    return this.control('POST', '/__sim/nomis/merge', {
      retainedOffenderNo: retained,
      removedOffenderNo: removed,
    });
  }

  // ---- faults, tokens, state ----

  setFaults(rules: FaultRule[], seed?: number): Promise<FaultStats> {
    return this.control('POST', '/__sim/faults', seed === undefined ? rules : { rules, seed });
  }

  /** Switches legal-but-awkward upstream behaviours on or off (simulators/awkward.ts); the rest stay. */
  setAwkward(changes: SetAwkwardnessRequest): Promise<Awkwardness> {
    return this.control('POST', '/__sim/awkward', changes);
  }

  async clearFaults(): Promise<void> {
    await this.control('DELETE', '/__sim/faults');
  }

  faults(): Promise<FaultStats> {
    return this.control('GET', '/__sim/faults');
  }

  expireTokens(): Promise<{ expired: number }> {
    return this.control('POST', '/__sim/auth/expire-tokens');
  }

  async reset(): Promise<void> {
    this.cachedToken = undefined;
    await this.control('POST', '/__sim/reset');
  }

  state(offenderNo?: string): Promise<SimulatorState> {
    return this.control('GET', `/__sim/state${offenderNo === undefined ? '' : `?offenderNo=${enc(offenderNo)}`}`);
  }

  events(filter: { topic?: TopicName; key?: string; limit?: number } = {}): Promise<PublishedEvent[]> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(filter)) if (value !== undefined) query.set(name, String(value));
    return this.control('GET', `/__sim/events?${query.toString()}`);
  }

  seedDemo(count?: number, seed?: number): Promise<{ created: string[] }> {
    return this.control('POST', '/__sim/seed', { count, seed });
  }

  // ---- through the real APIs, with a token ----

  /** A DPS user creates an alert (no Source header, so the event says source=DPS). */
  async createDpsAlert(prisonNumber: string, alert: DpsUserAlert): Promise<DpsAlert> {
    const createdBy = alert.createdBy ?? 'DPS_USER';
    const request = {
      alertCode: alert.alertCode,
      description: alert.description ?? null,
      authorisedBy: alert.authorisedBy ?? null,
      activeFrom: alert.activeFrom ?? localDate(),
      activeTo: alert.activeTo ?? null,
      createdAt: localDateTime(),
      createdBy,
      createdByDisplayName: `${createdBy} (DPS)`,
    };
    return this.api(this.urls.dps, 'POST', `/prisoners/${enc(prisonNumber)}/alerts`, request, dpsAlertSchema);
  }

  /** A DPS user edits an alert; fields left out keep their value. */
  async updateDpsAlert(alertUuid: string, changes: DpsUserAlertChanges): Promise<DpsAlert> {
    const current = await this.getDpsAlert(alertUuid);
    const request = {
      description: current.description ?? null,
      authorisedBy: current.authorisedBy ?? null,
      activeFrom: current.activeFrom,
      activeTo: current.activeTo ?? null,
      ...changes,
      updatedAt: localDateTime(),
      updatedBy: 'DPS_USER',
      updatedByDisplayName: 'DPS_USER (DPS)',
    };
    return this.api(this.urls.dps, 'PUT', `/alerts/${enc(alertUuid)}`, request, dpsAlertSchema);
  }

  async deleteDpsAlert(alertUuid: string): Promise<void> {
    await this.api(this.urls.dps, 'DELETE', `/alerts/${enc(alertUuid)}`, undefined, z.unknown());
  }

  /**
   * Drift for reconciliation demos: removes the prisoner's first DPS alert as if the sync had (header
   * `Source: NOMIS`), so the router ignores the event and DPS is left out of step with NOMIS. Returns its uuid.
   */
  async driftDpsAlert(prisonNumber: string): Promise<string | undefined> {
    const [alert] = await this.getDpsAlerts(prisonNumber);
    if (!alert) return undefined;
    await this.api(this.urls.dps, 'DELETE', `/alerts/${enc(alert.alertUuid)}`, undefined, z.unknown(), false, {
      [DPS_SYNC_SOURCE_HEADER]: DPS_SYNC_SOURCE_VALUE,
    });
    return alert.alertUuid;
  }

  getDpsAlert(alertUuid: string): Promise<DpsAlert> {
    return this.api(this.urls.dps, 'GET', `/alerts/${enc(alertUuid)}`, undefined, dpsAlertSchema);
  }

  getDpsAlerts(prisonNumber: string): Promise<DpsAlert[]> {
    return this.api(this.urls.dps, 'GET', `/prisoners/${enc(prisonNumber)}/alerts`, undefined, z.array(dpsAlertSchema));
  }

  getNomisAlertsToMigrate(offenderNo: string): Promise<NomisAlertsToMigrate> {
    return this.api(
      this.urls.nomis,
      'GET',
      `/prisoners/${enc(offenderNo)}/alerts/to-migrate`,
      undefined,
      nomisAlertsToMigrateSchema,
    );
  }

  async token(): Promise<string> {
    if (this.cachedToken && Date.now() < this.cachedToken.expiresAt) return this.cachedToken.token;
    const basic = Buffer.from(`${this.credentials.clientId}:${this.credentials.clientSecret}`).toString('base64');
    const { status, body } = await send(this.urls.auth, 'POST', '/auth/oauth/token?grant_type=client_credentials', {
      authorization: `Basic ${basic}`,
    });
    if (status !== 200) throw failure('POST /auth/oauth/token', status, body);
    const parsed = tokenResponseSchema.parse(body);
    // Half the lifetime: a token never expires between being read and being used.
    this.cachedToken = { token: parsed.access_token, expiresAt: Date.now() + (parsed.expires_in * 1000) / 2 };
    return parsed.access_token;
  }

  // ---- plumbing ----

  private async control<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const response = await send(this.urls.nomis, method, path, {}, body);
    if (response.status >= 400) throw failure(`${method} ${path}`, response.status, response.body);
    return response.body as T;
  }

  private async api<S extends z.ZodTypeAny>(
    baseUrl: string,
    method: Method,
    path: string,
    body: unknown,
    schema: S,
    retried = false,
    headers: Record<string, string> = {},
  ): Promise<z.infer<S>> {
    const authorization = `Bearer ${await this.token()}`;
    const response = await send(baseUrl, method, path, { ...headers, authorization }, body);
    if (response.status === 401 && !retried) {
      // The token was expired or revoked (POST /__sim/auth/expire-tokens): fetch another, once.
      this.cachedToken = undefined;
      return this.api(baseUrl, method, path, body, schema, true, headers);
    }
    if (response.status >= 400) throw failure(`${method} ${path}`, response.status, response.body);
    if (response.status === 204) return undefined as z.infer<S>;
    const parsed = schema.safeParse(response.body);
    if (!parsed.success) {
      throw new SimulatorControlError(
        `${method} ${path}: response breaks the contract: ${describeIssues(parsed.error)}`,
        response.status,
        response.body,
      );
    }
    return parsed.data as z.infer<S>;
  }
}

const enc = encodeURIComponent;

async function send(
  baseUrl: string,
  method: Method,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(new URL(path, baseUrl), {
    method,
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    // not JSON: keep the text for the error message
  }
  return { status: response.status, body: parsed };
}

function failure(what: string, status: number, body: unknown): SimulatorControlError {
  const message =
    typeof body === 'object' && body !== null && 'userMessage' in body
      ? String(body.userMessage)
      : JSON.stringify(body);
  return new SimulatorControlError(`${what} returned ${status}: ${message}`, status, body);
}
