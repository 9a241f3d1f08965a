import { z } from 'zod';
import { encode } from '../adapters/http';
import { DPS_SYNC_SOURCE_HEADER, DPS_SYNC_SOURCE_VALUE, dpsAlertSchema, nomisAlertSchema } from '../common/contract';
import type { DpsAlert, NomisAlert, NomisAlertsToMigrate } from '../common/contract';
import { awkwardnessSchema } from './awkward';
import type { Awkwardness, SetAwkwardnessRequest } from './awkward';
import { publishedEventSchema } from './events';
import type { PublishedEvent, TopicName } from './events';
import { faultStatsSchema } from './faults';
import type { FaultRule, FaultStats } from './faults';
import { simulatorStateSchema } from './index';
import type { SimulatorState } from './index';
import {
  mergeResultSchema,
  moveBookingResultSchema,
  newBookingResultSchema,
  nomisPrisonerViewSchema,
  receivePreviousResultSchema,
} from './nomis';
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
import { ControlTransport } from './control-transport';
import type { SimulatorUrls } from './control-transport';
import { localDate, localDateTime } from './time';

// A typed client of the simulators' control API (see index.ts), for tests, the CLI and demos. It also acts as a
// DPS user through the real DPS API (no Source header, so DPS publishes source=DPS and the sync picks it up).
// Its HTTP goes through control-transport.ts, which uses the product's own clients: every response is parsed
// with a schema (below, one per call).

export type { FaultStats } from './faults';
export { SimulatorControlError } from './control-transport';
export type { SimulatorUrls } from './control-transport';

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

const expiredSchema = z.object({ expired: z.number().int() });
const createdSchema = z.object({ created: z.array(z.string()) });

export class SimulatorControl {
  private readonly http: ControlTransport;

  constructor(
    readonly urls: SimulatorUrls,
    credentials = { clientId: 'alerts-sync', clientSecret: 'alerts-sync-secret' },
  ) {
    this.http = new ControlTransport(urls, credentials);
  }

  // ---- NOMIS (users and staff) ----

  createPrisoner(request: CreatePrisonerRequest): Promise<NomisPrisonerView> {
    return this.http.control({
      method: 'POST',
      path: '/__sim/nomis/prisoners',
      body: request,
      schema: nomisPrisonerViewSchema,
    });
  }

  getPrisoner(offenderNo: string): Promise<NomisPrisonerView> {
    const path = `/__sim/nomis/prisoners/${encode(offenderNo)}`;
    return this.http.control({ method: 'GET', path, schema: nomisPrisonerViewSchema });
  }

  /** A NOMIS user adds an alert on the current booking (audit module OIDALERT). */
  addNomisAlert(offenderNo: string, alert: NomisUserAlertRequest): Promise<NomisAlert> {
    const path = `/__sim/nomis/prisoners/${encode(offenderNo)}/alerts`;
    return this.http.control({ method: 'POST', path, body: alert, schema: nomisAlertSchema });
  }

  /** A NOMIS user changes some fields of an alert; fields left out keep their value. */
  updateNomisAlert(bookingId: number, alertSequence: number, changes: NomisUserAlertUpdate): Promise<NomisAlert> {
    const path = `/__sim/nomis/bookings/${bookingId}/alerts/${alertSequence}`;
    return this.http.control({ method: 'PUT', path, body: changes, schema: nomisAlertSchema });
  }

  deleteNomisAlert(bookingId: number, alertSequence: number): Promise<void> {
    return this.http.controlNoBody({
      method: 'DELETE',
      path: `/__sim/nomis/bookings/${bookingId}/alerts/${alertSequence}`,
    });
  }

  newBooking(offenderNo: string, prisonId?: string): Promise<NewBookingResult> {
    const path = `/__sim/nomis/prisoners/${encode(offenderNo)}/bookings`;
    return this.http.control({ method: 'POST', path, body: { prisonId }, schema: newBookingResultSchema });
  }

  /** Without bookingId, the most recent previous booking. */
  receiveOntoPreviousBooking(
    offenderNo: string,
    bookingId?: number,
    prisonId?: string,
  ): Promise<ReceivePreviousResult> {
    const path = `/__sim/nomis/prisoners/${encode(offenderNo)}/receive-previous`;
    return this.http.control({
      method: 'POST',
      path,
      body: { bookingId, prisonId },
      schema: receivePreviousResultSchema,
    });
  }

  /** `from`, when given, must be the booking's current owner. */
  moveBooking({ bookingId, from, to }: { bookingId: number; from?: string; to: string }): Promise<MoveBookingResult> {
    const path = `/__sim/nomis/bookings/${bookingId}/move`;
    const body = { toOffenderNo: to, fromOffenderNo: from };
    return this.http.control({ method: 'POST', path, body, schema: moveBookingResultSchema });
  }

  merge({ retained, removed }: { retained: string; removed: string }): Promise<MergeResult> {
    const body = { retainedOffenderNo: retained, removedOffenderNo: removed };
    return this.http.control({ method: 'POST', path: '/__sim/nomis/merge', body, schema: mergeResultSchema });
  }

  // ---- faults, tokens, state ----

  setFaults(rules: FaultRule[], seed?: number): Promise<FaultStats> {
    const body = seed === undefined ? rules : { rules, seed };
    return this.http.control({ method: 'POST', path: '/__sim/faults', body, schema: faultStatsSchema });
  }

  /** Switches legal-but-awkward upstream behaviours on or off (simulators/awkward.ts); the rest stay. */
  setAwkward(changes: SetAwkwardnessRequest): Promise<Awkwardness> {
    return this.http.control({ method: 'POST', path: '/__sim/awkward', body: changes, schema: awkwardnessSchema });
  }

  clearFaults(): Promise<void> {
    return this.http.controlNoBody({ method: 'DELETE', path: '/__sim/faults' });
  }

  faults(): Promise<FaultStats> {
    return this.http.control({ method: 'GET', path: '/__sim/faults', schema: faultStatsSchema });
  }

  expireTokens(): Promise<{ expired: number }> {
    return this.http.control({ method: 'POST', path: '/__sim/auth/expire-tokens', schema: expiredSchema });
  }

  async reset(): Promise<void> {
    // The reset forgets every token issued, so the cached one is no good either.
    this.http.forgetToken();
    await this.http.controlNoBody({ method: 'POST', path: '/__sim/reset' });
  }

  state(offenderNo?: string): Promise<SimulatorState> {
    const path = `/__sim/state${offenderNo === undefined ? '' : `?offenderNo=${encode(offenderNo)}`}`;
    return this.http.control({ method: 'GET', path, schema: simulatorStateSchema });
  }

  events(filter: { topic?: TopicName; key?: string; limit?: number } = {}): Promise<PublishedEvent[]> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(filter)) if (value !== undefined) query.set(name, String(value));
    const path = `/__sim/events?${query.toString()}`;
    return this.http.control({ method: 'GET', path, schema: z.array(publishedEventSchema) });
  }

  seedDemo(count?: number, seed?: number): Promise<{ created: string[] }> {
    return this.http.control({ method: 'POST', path: '/__sim/seed', body: { count, seed }, schema: createdSchema });
  }

  // ---- through the real APIs, with a token ----

  /** A DPS user creates an alert (no Source header, so the event says source=DPS). */
  createDpsAlert(prisonNumber: string, alert: DpsUserAlert): Promise<DpsAlert> {
    const createdBy = alert.createdBy ?? 'DPS_USER';
    const body = {
      alertCode: alert.alertCode,
      description: alert.description ?? null,
      authorisedBy: alert.authorisedBy ?? null,
      activeFrom: alert.activeFrom ?? localDate(),
      activeTo: alert.activeTo ?? null,
      createdAt: localDateTime(),
      createdBy,
      createdByDisplayName: `${createdBy} (DPS)`,
    };
    const path = `/prisoners/${encode(prisonNumber)}/alerts`;
    return this.http.callDps({ method: 'POST', path, body, schema: dpsAlertSchema });
  }

  /** A DPS user edits an alert; fields left out keep their value. */
  async updateDpsAlert(alertUuid: string, changes: DpsUserAlertChanges): Promise<DpsAlert> {
    const current = await this.getDpsAlert(alertUuid);
    const body = {
      description: current.description ?? null,
      authorisedBy: current.authorisedBy ?? null,
      activeFrom: current.activeFrom,
      activeTo: current.activeTo ?? null,
      ...changes,
      updatedAt: localDateTime(),
      updatedBy: 'DPS_USER',
      updatedByDisplayName: 'DPS_USER (DPS)',
    };
    return this.http.callDps({
      method: 'PUT',
      path: `/alerts/${encode(alertUuid)}`,
      body,
      schema: dpsAlertSchema,
    });
  }

  async deleteDpsAlert(alertUuid: string): Promise<void> {
    await this.http.callDps({ method: 'DELETE', path: `/alerts/${encode(alertUuid)}` });
  }

  /**
   * Drift for reconciliation demos: removes the prisoner's first DPS alert as if the sync had (header
   * `Source: NOMIS`), so the router ignores the event and DPS is left out of step with NOMIS. Returns its uuid.
   */
  async driftDpsAlert(prisonNumber: string): Promise<string | undefined> {
    const [alert] = await this.getDpsAlerts(prisonNumber);
    if (!alert) return undefined;
    await this.http.callDps({
      method: 'DELETE',
      path: `/alerts/${encode(alert.alertUuid)}`,
      headers: { [DPS_SYNC_SOURCE_HEADER]: DPS_SYNC_SOURCE_VALUE },
    });
    return alert.alertUuid;
  }

  getDpsAlert(alertUuid: string): Promise<DpsAlert> {
    return this.http.read(({ dps }) => dps.getAlert(alertUuid));
  }

  getDpsAlerts(prisonNumber: string): Promise<DpsAlert[]> {
    return this.http.read(({ dps }) => dps.getPrisonerAlerts(prisonNumber));
  }

  getNomisAlertsToMigrate(offenderNo: string): Promise<NomisAlertsToMigrate> {
    return this.http.read(({ nomis }) => nomis.getAlertsToMigrate(offenderNo));
  }

  token(): Promise<string> {
    return this.http.token();
  }

  /** Closes the connection pools; idle ones do not hold a process open, so short-lived callers may skip it. */
  async close(): Promise<void> {
    await this.http.close();
  }
}
