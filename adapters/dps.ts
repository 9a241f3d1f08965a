import { z } from 'zod';
import type {
  CreateDpsAlertRequest,
  DpsAlert,
  ResyncAlert,
  ResyncResponse,
  UpdateDpsAlertRequest,
} from '../common/contract';
import {
  DPS_SYNC_SOURCE_HEADER,
  DPS_SYNC_SOURCE_VALUE,
  dpsAlertSchema,
  resyncResponseSchema,
} from '../common/contract';
import { encode, JsonApiClient } from './http';
import type { TokenSource } from './http';

/** Marks our writes as the sync's own, so DPS publishes them with source NOMIS and we skip the echo. */
const SYNC_SOURCE = { [DPS_SYNC_SOURCE_HEADER]: DPS_SYNC_SOURCE_VALUE };

/** The DPS Alerts API (contract §4). */
export class DpsAlertsApiClient {
  private readonly http: JsonApiClient;

  constructor(baseUrl: string, tokens: TokenSource, timeoutMs: number) {
    this.http = new JsonApiClient('DPS', baseUrl, tokens, timeoutMs);
  }

  /** Replaces all the prisoner's alerts with these; the response is in request order. */
  resyncPrisonerAlerts(prisonNumber: string, alerts: ResyncAlert[], signal?: AbortSignal): Promise<ResyncResponse> {
    return this.http.requestBody({
      method: 'POST',
      path: `/resync/${encode(prisonNumber)}/alerts`,
      body: alerts,
      schema: resyncResponseSchema,
      signal,
    });
  }

  getPrisonerAlerts(prisonNumber: string, signal?: AbortSignal): Promise<DpsAlert[]> {
    return this.http.requestBody({
      method: 'GET',
      path: `/prisoners/${encode(prisonNumber)}/alerts`,
      schema: z.array(dpsAlertSchema),
      signal,
    });
  }

  getAlert(alertUuid: string, signal?: AbortSignal): Promise<DpsAlert> {
    return this.http.requestBody({
      method: 'GET',
      path: `/alerts/${encode(alertUuid)}`,
      schema: dpsAlertSchema,
      signal,
    });
  }

  createAlert(prisonNumber: string, alert: CreateDpsAlertRequest, signal?: AbortSignal): Promise<DpsAlert> {
    return this.http.requestBody({
      method: 'POST',
      path: `/prisoners/${encode(prisonNumber)}/alerts`,
      body: alert,
      headers: SYNC_SOURCE,
      schema: dpsAlertSchema,
      signal,
    });
  }

  updateAlert(alertUuid: string, alert: UpdateDpsAlertRequest, signal?: AbortSignal): Promise<DpsAlert> {
    return this.http.requestBody({
      method: 'PUT',
      path: `/alerts/${encode(alertUuid)}`,
      body: alert,
      headers: SYNC_SOURCE,
      schema: dpsAlertSchema,
      signal,
    });
  }

  /** 404 means already gone: the delete is done. */
  async deleteAlert(alertUuid: string, signal?: AbortSignal): Promise<void> {
    await this.http.request({
      method: 'DELETE',
      path: `/alerts/${encode(alertUuid)}`,
      headers: SYNC_SOURCE,
      okStatuses: [404],
      signal,
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
