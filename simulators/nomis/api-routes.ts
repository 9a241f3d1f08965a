import { z } from 'zod';
import {
  SYNC_AUDIT_MODULE,
  createNomisAlertRequestSchema,
  resynchroniseNomisAlertsRequestSchema,
  updateNomisAlertRequestSchema,
} from '../../common/contract';
import type { CreateNomisAlertResponse, NomisAlert, ResynchroniseNomisAlertsResponse } from '../../common/contract';
import { NOMIS_ROLE } from '../auth';
import { body, intParam, json, noContent, param, validate } from '../http';
import type { Route } from '../http';
import type { Actor, AlertInput } from './records';
import type { NomisState } from './state';

// The NOMIS Prisoner API the sync calls (contract §3): token with NOMIS_ROLE, counted and faultable.

const pageQuerySchema = z.object({
  page: z.coerce.number().int().min(0).default(0),
  size: z.coerce.number().int().min(1).max(10_000).default(20),
  prisonId: z.string().min(1).optional(),
});

/** A create request of the sync's (one alert, or one of a resynchronise): the alert, and who wrote it. */
function syncWrite(alert: z.output<typeof createNomisAlertRequestSchema>): { input: AlertInput; actor: Actor } {
  return {
    input: {
      alertCode: alert.alertCode,
      date: alert.date,
      isActive: alert.isActive,
      expiryDate: alert.expiryDate ?? null,
      comment: alert.comment ?? null,
      authorisedBy: alert.authorisedBy ?? null,
    },
    actor: { username: alert.createUsername, module: SYNC_AUDIT_MODULE },
  };
}

/** What NOMIS answers for each alert the sync created. */
function createdResponse(alert: NomisAlert): CreateNomisAlertResponse {
  return {
    bookingId: alert.bookingId,
    alertSequence: alert.alertSequence,
    alertCode: alert.alertCode,
    type: alert.type,
  };
}

function readRoutes(nomis: NomisState): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/prisoners/ids/active',
      handler: (request) =>
        json(200, nomis.activePrisonerIds(validate(pageQuerySchema, Object.fromEntries(request.query)))),
    },
    {
      method: 'GET',
      pattern: '/prisoners/:offenderNo/alerts/to-migrate',
      handler: (request) => json(200, nomis.toMigrate(param(request, 'offenderNo'))),
    },
    {
      method: 'GET',
      pattern: '/prisoners/booking-id/:bookingId/alerts/:alertSequence',
      handler: (request) =>
        json(200, nomis.getAlert(intParam(request, 'bookingId'), intParam(request, 'alertSequence'))),
    },
  ];
}

function writeRoutes(nomis: NomisState): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/prisoners/:offenderNo/alerts',
      handler: (request) => {
        const { input, actor } = syncWrite(body(request, createNomisAlertRequestSchema));
        return json(201, createdResponse(nomis.createAlert(param(request, 'offenderNo'), input, actor)));
      },
    },
    {
      method: 'POST',
      pattern: '/prisoners/:offenderNo/alerts/resynchronise',
      handler: (request) => {
        const alerts = body(request, resynchroniseNomisAlertsRequestSchema);
        const created = nomis.resynchroniseAlerts(param(request, 'offenderNo'), alerts.map(syncWrite));
        const response: ResynchroniseNomisAlertsResponse = created.map(createdResponse);
        return json(201, response);
      },
    },
    {
      method: 'PUT',
      pattern: '/prisoners/booking-id/:bookingId/alerts/:alertSequence',
      handler: (request) => {
        const bookingId = intParam(request, 'bookingId');
        const alertSequence = intParam(request, 'alertSequence');
        const alert = body(request, updateNomisAlertRequestSchema);
        // A PUT replaces: an optional field left out is cleared, so NOMIS ends up exactly as the caller sent it.
        const updated = nomis.updateAlert(
          bookingId,
          alertSequence,
          {
            date: alert.date,
            isActive: alert.isActive,
            expiryDate: alert.expiryDate ?? null,
            comment: alert.comment ?? null,
            authorisedBy: alert.authorisedBy ?? null,
          },
          { username: alert.updateUsername, module: SYNC_AUDIT_MODULE },
        );
        return json(200, updated);
      },
    },
    {
      method: 'DELETE',
      pattern: '/prisoners/booking-id/:bookingId/alerts/:alertSequence',
      handler: (request) => {
        nomis.deleteAlert(intParam(request, 'bookingId'), intParam(request, 'alertSequence'), {
          username: 'DPS_SYNC',
          module: SYNC_AUDIT_MODULE,
        });
        return noContent();
      },
    },
  ];
}

export function nomisApiRoutes(nomis: NomisState): Route[] {
  return [...readRoutes(nomis), ...writeRoutes(nomis)].map((route) => ({
    ...route,
    api: 'nomis' as const,
    role: NOMIS_ROLE,
  }));
}
