import type {
  CreateNomisAlertRequest,
  NomisAlert,
  ResynchroniseNomisAlertsRequest,
  ResynchroniseNomisAlertsResponse,
  UpdateNomisAlertRequest,
} from '../common/contract';
import {
  activePrisonerIdsPageSchema,
  createNomisAlertResponseSchema,
  nomisAlertSchema,
  nomisAlertsToMigrateSchema,
  resynchroniseNomisAlertsResponseSchema,
} from '../common/contract';
import type { ActivePrisonerIdsPage, CreateNomisAlertResponse, NomisAlertsToMigrate } from '../common/contract';
import { encode, JsonApiClient } from './http';
import type { TokenSource } from './http';

/** The NOMIS Prisoner API, alerts part (contract §3). */
export class NomisApiClient {
  private readonly http: JsonApiClient;

  constructor(baseUrl: string, tokens: TokenSource, timeoutMs: number) {
    this.http = new JsonApiClient('NOMIS', baseUrl, tokens, timeoutMs);
  }

  /** 404 (unknown prisoner, or no booking) is an error, never an empty list: that would wipe DPS. */
  getAlertsToMigrate(offenderNo: string, signal?: AbortSignal): Promise<NomisAlertsToMigrate> {
    return this.http.requestBody({
      method: 'GET',
      path: `/prisoners/${encode(offenderNo)}/alerts/to-migrate`,
      schema: nomisAlertsToMigrateSchema,
      signal,
    });
  }

  /** One page of the prisoners in prison now (optionally at one prison), ordered by current booking. */
  getActivePrisonerIds(
    query: { page: number; size: number; prisonId?: string },
    signal?: AbortSignal,
  ): Promise<ActivePrisonerIdsPage> {
    const params = new URLSearchParams({ page: String(query.page), size: String(query.size) });
    if (query.prisonId) params.set('prisonId', query.prisonId);
    return this.http.requestBody({
      method: 'GET',
      path: `/prisoners/ids/active?${params.toString()}`,
      schema: activePrisonerIdsPageSchema,
      signal,
    });
  }

  getAlert(bookingId: number, alertSequence: number, signal?: AbortSignal): Promise<NomisAlert> {
    return this.http.requestBody({
      method: 'GET',
      path: `/prisoners/booking-id/${encode(bookingId)}/alerts/${encode(alertSequence)}`,
      schema: nomisAlertSchema,
      signal,
    });
  }

  createAlert(
    offenderNo: string,
    alert: CreateNomisAlertRequest,
    signal?: AbortSignal,
  ): Promise<CreateNomisAlertResponse> {
    return this.http.requestBody({
      method: 'POST',
      path: `/prisoners/${encode(offenderNo)}/alerts`,
      body: alert,
      schema: createNomisAlertResponseSchema,
      signal,
    });
  }

  /**
   * Replaces every alert on the prisoner's current booking with these (the DPS-driven resync); the answer is in
   * request order. New sequences start after the booking's old highest. 404: no such prisoner, or no booking.
   */
  resynchroniseAlerts(
    offenderNo: string,
    alerts: ResynchroniseNomisAlertsRequest,
    signal?: AbortSignal,
  ): Promise<ResynchroniseNomisAlertsResponse> {
    return this.http.requestBody({
      method: 'POST',
      path: `/prisoners/${encode(offenderNo)}/alerts/resynchronise`,
      body: alerts,
      schema: resynchroniseNomisAlertsResponseSchema,
      signal,
    });
  }

  updateAlert(
    bookingId: number,
    alertSequence: number,
    alert: UpdateNomisAlertRequest,
    signal?: AbortSignal,
  ): Promise<NomisAlert> {
    return this.http.requestBody({
      method: 'PUT',
      path: `/prisoners/booking-id/${encode(bookingId)}/alerts/${encode(alertSequence)}`,
      body: alert,
      schema: nomisAlertSchema,
      signal,
    });
  }

  async deleteAlert(bookingId: number, alertSequence: number, signal?: AbortSignal): Promise<void> {
    await this.http.request({
      method: 'DELETE',
      path: `/prisoners/booking-id/${encode(bookingId)}/alerts/${encode(alertSequence)}`,
      signal,
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
