import type { SimLog } from '../events';
import { body, intParam, json, noContent, notFound, param } from '../http';
import type { Route } from '../http';
import { NOMIS_USER_MODULE, seedActor, seedInput } from './records';
import {
  createPrisonerRequestSchema,
  mergeRequestSchema,
  moveBookingRequestSchema,
  newBookingRequestSchema,
  nomisUserAlertRequestSchema,
  nomisUserAlertUpdateSchema,
  receivePreviousRequestSchema,
} from './schemas';
import type { NomisState } from './state';

// NOMIS users' and NOMIS staff's actions on the control API (/__sim/nomis/...), driven by tests and the CLI.
// No token, never faulted: a test must always be able to set the scene.

function userAlertRoutes(nomis: NomisState, log: SimLog): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/__sim/nomis/prisoners/:offenderNo/alerts',
      handler: (request) => {
        const alert = body(request, nomisUserAlertRequestSchema);
        const created = nomis.createAlert(param(request, 'offenderNo'), seedInput(alert), seedActor(alert));
        log('nomis', `NOMIS user added ${created.alertCode.code} ${created.bookingId}/${created.alertSequence}`);
        return json(201, created);
      },
    },
    {
      method: 'PUT',
      pattern: '/__sim/nomis/bookings/:bookingId/alerts/:alertSequence',
      handler: (request) => {
        const { username, ...changes } = body(request, nomisUserAlertUpdateSchema);
        const updated = nomis.updateAlert(intParam(request, 'bookingId'), intParam(request, 'alertSequence'), changes, {
          username: username ?? 'NOMIS_USER',
          module: NOMIS_USER_MODULE,
        });
        log('nomis', `NOMIS user updated ${updated.alertCode.code} ${updated.bookingId}/${updated.alertSequence}`);
        return json(200, updated);
      },
    },
    {
      method: 'DELETE',
      pattern: '/__sim/nomis/bookings/:bookingId/alerts/:alertSequence',
      handler: (request) => {
        const bookingId = intParam(request, 'bookingId');
        const alertSequence = intParam(request, 'alertSequence');
        // Unlike the API, an operator deleting a missing alert has probably typed the wrong numbers: say so.
        if (!nomis.deleteAlert(bookingId, alertSequence, { username: 'NOMIS_USER', module: NOMIS_USER_MODULE })) {
          throw notFound(`Alert ${alertSequence} on booking ${bookingId}`);
        }
        log('nomis', `NOMIS user deleted alert ${bookingId}/${alertSequence}`);
        return noContent();
      },
    },
  ];
}

function prisonerRoutes(nomis: NomisState): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/__sim/nomis/prisoners',
      handler: (request) => json(201, nomis.createPrisoner(body(request, createPrisonerRequestSchema))),
    },
    {
      method: 'GET',
      pattern: '/__sim/nomis/prisoners/:offenderNo',
      handler: (request) => json(200, nomis.view(param(request, 'offenderNo'))),
    },
    {
      method: 'POST',
      pattern: '/__sim/nomis/prisoners/:offenderNo/bookings',
      handler: (request) => {
        const { prisonId } = body(request, newBookingRequestSchema);
        return json(201, nomis.newBooking(param(request, 'offenderNo'), prisonId));
      },
    },
    {
      method: 'POST',
      pattern: '/__sim/nomis/prisoners/:offenderNo/receive-previous',
      handler: (request) => {
        const { bookingId, prisonId } = body(request, receivePreviousRequestSchema);
        return json(200, nomis.receiveOntoPreviousBooking(param(request, 'offenderNo'), bookingId, prisonId));
      },
    },
    {
      method: 'POST',
      pattern: '/__sim/nomis/bookings/:bookingId/move',
      handler: (request) => {
        const { toOffenderNo, fromOffenderNo } = body(request, moveBookingRequestSchema);
        return json(200, nomis.moveBooking(intParam(request, 'bookingId'), toOffenderNo, fromOffenderNo));
      },
    },
    {
      method: 'POST',
      pattern: '/__sim/nomis/merge',
      handler: (request) => {
        const { retainedOffenderNo, removedOffenderNo } = body(request, mergeRequestSchema);
        return json(200, nomis.merge(retainedOffenderNo, removedOffenderNo));
      },
    },
  ];
}

/** NOMIS users' and NOMIS staff's actions, driven by tests and the CLI. No token, never faulted. */
export function nomisControlRoutes(nomis: NomisState, log: SimLog = () => undefined): Route[] {
  return [...prisonerRoutes(nomis), ...userAlertRoutes(nomis, log)];
}
