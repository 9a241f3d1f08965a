import { z } from 'zod';
import {
  DPS_SYNC_SOURCE_HEADER,
  DPS_SYNC_SOURCE_VALUE,
  createDpsAlertRequestSchema,
  prisonNumber as prisonNumberSchema,
  resyncAlertSchema,
  updateDpsAlertRequestSchema,
} from '../../common/contract';
import { DPS_ROLE } from '../auth';
import { body, json, noContent, param, validate } from '../http';
import type { Route, SimRequest } from '../http';
import type { AlertSource, DpsState } from './state';

// The DPS Alerts API the sync calls (contract §4): token with DPS_ROLE, counted and faultable. DPS users use it
// too, without the Source header.

/** `Source: NOMIS` marks the sync's own writes; anything else is a DPS user. */
function sourceOf(request: SimRequest): AlertSource {
  const header = request.headers[DPS_SYNC_SOURCE_HEADER.toLowerCase()];
  return header === DPS_SYNC_SOURCE_VALUE ? 'NOMIS' : 'DPS';
}

const prisonNumberParam = (request: SimRequest) =>
  validate(z.object({ prisonNumber: prisonNumberSchema }), { prisonNumber: param(request, 'prisonNumber') })
    .prisonNumber;

export function dpsApiRoutes(dps: DpsState): Route[] {
  const api = { api: 'dps' as const, role: DPS_ROLE };
  return [
    {
      ...api,
      method: 'POST',
      pattern: '/resync/:prisonNumber/alerts',
      handler: (request) => {
        const prisonNumber = prisonNumberParam(request);
        return json(201, dps.resync(prisonNumber, body(request, z.array(resyncAlertSchema))));
      },
    },
    {
      ...api,
      method: 'GET',
      pattern: '/prisoners/:prisonNumber/alerts',
      handler: (request) => json(200, dps.alertsOf(param(request, 'prisonNumber'))),
    },
    {
      ...api,
      method: 'POST',
      pattern: '/prisoners/:prisonNumber/alerts',
      handler: (request) => {
        const prisonNumber = prisonNumberParam(request);
        return json(201, dps.create(prisonNumber, body(request, createDpsAlertRequestSchema), sourceOf(request)));
      },
    },
    {
      ...api,
      method: 'GET',
      pattern: '/alerts/:alertUuid',
      handler: (request) => json(200, dps.get(param(request, 'alertUuid'))),
    },
    {
      ...api,
      method: 'PUT',
      pattern: '/alerts/:alertUuid',
      handler: (request) => {
        const alertUuid = param(request, 'alertUuid');
        const update = body(request, updateDpsAlertRequestSchema);
        return json(200, dps.update(alertUuid, update, sourceOf(request)));
      },
    },
    {
      ...api,
      method: 'DELETE',
      pattern: '/alerts/:alertUuid',
      handler: (request) => {
        dps.delete(param(request, 'alertUuid'), sourceOf(request));
        return noContent();
      },
    },
  ];
}
