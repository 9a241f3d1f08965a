import { createHash } from 'node:crypto';
import type { z } from 'zod';
import {
  bookingMovedEventSchema,
  describeIssues,
  DOMAIN_EVENT,
  dpsAlertEventSchema,
  nomisAlertEventSchema,
  nomisAlertEventTypes,
  prisonerMergedEventSchema,
  prisonerReceivedEventSchema,
  RESYNC_RECEIVED_REASONS,
  prisonNumber as prisonNumberSchema,
  SYNC_AUDIT_MODULE,
} from '../../common/contract';
import type { SyncSwitches } from '../../common/sync-switches';
import type { AlertSyncRequest, ResyncRequest, SyncRequest } from '../../workflows/messages';

// Decides what one Kafka message means, without side effects: which prisoners to resync, what to skip and
// count, or why it is dead-lettered. Unit-tested on its own; the router only carries the decision out. About 300
// lines, kept whole: every event type's rule is here, side by side, so the table in the README has one home.

export interface Topics {
  offenderEvents: string;
  domainEvents: string;
}

export interface SyncTarget {
  prisonNumber: string;
  request: SyncRequest;
}

export interface RouteOptions {
  topics: Topics;
  /** The switches in force when the message is consumed: alert-level directions and the resync source. */
  switches: SyncSwitches;
}

export type SkipReason =
  | 'unknown-event-type'
  | 'received-reason-not-resynced'
  | 'own-change'
  | 'not-from-dps'
  | 'direction-switched-off';

export type RouteDecision =
  | { action: 'sync'; eventType: string; targets: SyncTarget[] }
  | { action: 'skip'; eventType: string; reason: SkipReason; prisonNumber?: string; detail: string }
  | { action: 'dead-letter'; reason: string };

/** Where a message sits in Kafka: a redelivery of the same message comes back at the same place. */
export interface MessagePosition {
  partition: number;
  offset: string;
}

export function routeMessage(
  options: RouteOptions,
  topic: string,
  value: Buffer | null,
  position: MessagePosition,
): RouteDecision {
  const { topics } = options;
  if (!value || value.length === 0) return { action: 'dead-letter', reason: 'message has no value' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { action: 'dead-letter', reason: `value is not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { action: 'dead-letter', reason: 'value is not a JSON object' };
  }
  const eventType = (json as { eventType?: unknown }).eventType;
  if (typeof eventType !== 'string' || eventType.length === 0) {
    return { action: 'dead-letter', reason: 'eventType: Required (a non-empty string)' };
  }
  // Two ids, for two kinds of duplicate. An alert-level event names only the alert, and its timestamp has
  // second precision, so two genuine changes of one alert can have identical bytes: only the message's place
  // in Kafka tells a redelivery from a second change (a copy published twice is harmless: alert syncs re-read
  // both sides). A prisoner-level event with identical bytes describes the same change, which happened before
  // the first copy was even published, so a resync that is already running covers it: its content is its id.
  const ids: EventIds = {
    message: `${topic}:${position.partition}:${position.offset}`,
    content: createHash('sha256').update(topic).update('\0').update(value).digest('hex').slice(0, 24),
  };

  if (topic === topics.offenderEvents) return routeNomisEvent(eventType, json, ids.message, options);
  if (topic === topics.domainEvents) return routeDomainEvent(eventType, json, ids, options);
  return { action: 'dead-letter', reason: `topic ${topic} is not one the router consumes` };
}

interface EventIds {
  message: string;
  content: string;
}

function parse<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, json: unknown, eventType: string): T | RouteDecision {
  const parsed = schema.safeParse(json);
  return parsed.success
    ? parsed.data
    : { action: 'dead-letter', reason: `${eventType} does not match the contract: ${describeIssues(parsed.error)}` };
}

function isDecision(value: unknown): value is RouteDecision {
  return typeof value === 'object' && value !== null && 'action' in value;
}

const ACTIONS = {
  'ALERT-INSERTED': 'CREATED',
  'ALERT-UPDATED': 'UPDATED',
  'ALERT-DELETED': 'DELETED',
  [DOMAIN_EVENT.alertCreated]: 'CREATED',
  [DOMAIN_EVENT.alertUpdated]: 'UPDATED',
  [DOMAIN_EVENT.alertDeleted]: 'DELETED',
} as const;

function routeNomisEvent(eventType: string, json: unknown, eventId: string, options: RouteOptions): RouteDecision {
  if (!(nomisAlertEventTypes as readonly string[]).includes(eventType)) {
    return { action: 'skip', eventType, reason: 'unknown-event-type', detail: `${eventType} is not an alert event` };
  }
  const event = parse(nomisAlertEventSchema, json, eventType);
  if (isDecision(event)) return event;
  const prisonNumber = event.offenderIdDisplay;
  if (event.auditModuleName?.startsWith(SYNC_AUDIT_MODULE)) {
    return {
      action: 'skip',
      eventType,
      reason: 'own-change',
      prisonNumber,
      detail: `written by the sync (${event.auditModuleName})`,
    };
  }
  const { bookingId, alertSeq, alertCode } = event;
  const action = ACTIONS[event.eventType];
  // Without the module the event cannot say who wrote it; the workflow asks the alert itself (contract §1.1).
  const auditModuleOmitted = !event.auditModuleName;
  return alertSync(options, eventType, prisonNumber, {
    kind: 'alert',
    reason: `NOMIS alert ${bookingId}/${alertSeq}${alertCode ? ` ${alertCode}` : ''} ${action.toLowerCase()}`,
    eventId,
    change: {
      direction: 'NOMIS_TO_DPS',
      action,
      bookingId,
      alertSeq,
      alertCode,
      ...(auditModuleOmitted ? { auditModuleOmitted } : {}),
    },
  });
}

/** A resync from the source switched on when the event is consumed (NOMIS unless said otherwise). */
function resync(options: RouteOptions, request: ResyncRequest): ResyncRequest {
  return options.switches.resyncSource === 'DPS' ? { ...request, source: 'DPS' } : request;
}

/** An alert-level change to sync, unless its direction is switched off (ADR002's end state). */
function alertSync(
  options: RouteOptions,
  eventType: string,
  prisonNumber: string,
  request: AlertSyncRequest,
): RouteDecision {
  const { direction } = request.change;
  const on = direction === 'NOMIS_TO_DPS' ? options.switches.nomisToDps : options.switches.dpsToNomis;
  if (!on) {
    const name = direction === 'NOMIS_TO_DPS' ? 'nomis-to-dps' : 'dps-to-nomis';
    return {
      action: 'skip',
      eventType,
      reason: 'direction-switched-off',
      prisonNumber,
      detail: `${direction} sync is off (switch ${name})`,
    };
  }
  return { action: 'sync', eventType, targets: [{ prisonNumber, request }] };
}

// Over 80 lines: one case per domain event of contract §1.2, side by side, so the switch reads as that table.
function routeDomainEvent(eventType: string, json: unknown, ids: EventIds, options: RouteOptions): RouteDecision {
  const eventId = ids.content;
  switch (eventType) {
    case DOMAIN_EVENT.merged: {
      const event = parse(prisonerMergedEventSchema, json, eventType);
      if (isDecision(event)) return event;
      const { nomsNumber, removedNomsNumber } = event.additionalInformation;
      if (nomsNumber === removedNomsNumber) {
        // Read literally it would wipe a live prisoner: a broken event, not a merge.
        return {
          action: 'dead-letter',
          reason: `${eventType}: additionalInformation.removedNomsNumber must differ from nomsNumber (both ${nomsNumber})`,
        };
      }
      const reason = `merge of ${removedNomsNumber} into ${nomsNumber}`;
      const retained: SyncTarget = {
        prisonNumber: nomsNumber,
        request: resync(options, { kind: 'resync', reason, eventId, removedPrisonNumber: removedNomsNumber }),
      };
      // From DPS, the retained prisoner's resync reads the removed one's DPS alerts before emptying them: a
      // resync of the removed side on its own could empty them first, and they would be lost.
      if (options.switches.resyncSource === 'DPS') return { action: 'sync', eventType, targets: [retained] };
      // From NOMIS, each side in its own queue, so neither is changed beside its own pending syncs. The removed
      // prisoner's bookings went to the retained one: NOMIS no longer knowing it means it has no alerts any more.
      return {
        action: 'sync',
        eventType,
        targets: [
          retained,
          { prisonNumber: removedNomsNumber, request: { kind: 'resync', reason, eventId, bookingsMovedAway: true } },
        ],
      };
    }
    case DOMAIN_EVENT.bookingMoved: {
      const event = parse(bookingMovedEventSchema, json, eventType);
      if (isDecision(event)) return event;
      const { bookingId, movedFromNomsNumber: from, movedToNomsNumber: to } = event.additionalInformation;
      if (from === to) {
        return {
          action: 'dead-letter',
          reason: `${eventType}: additionalInformation.movedToNomsNumber must differ from movedFromNomsNumber (both ${from})`,
        };
      }
      const reason = `booking ${bookingId} moved from ${from} to ${to}`;
      return {
        action: 'sync',
        eventType,
        targets: [
          // The booking may have been its last: then NOMIS answers 404, which here means "no alerts any more".
          {
            prisonNumber: from,
            request: resync(options, { kind: 'resync', reason, eventId, bookingsMovedAway: true }),
          },
          { prisonNumber: to, request: resync(options, { kind: 'resync', reason, eventId }) },
        ],
      };
    }
    case DOMAIN_EVENT.received: {
      const event = parse(prisonerReceivedEventSchema, json, eventType);
      if (isDecision(event)) return event;
      const { nomsNumber, reason } = event.additionalInformation;
      if (!(RESYNC_RECEIVED_REASONS as readonly string[]).includes(reason)) {
        return {
          action: 'skip',
          eventType,
          reason: 'received-reason-not-resynced',
          prisonNumber: nomsNumber,
          detail: `reason ${reason}`,
        };
      }
      return {
        action: 'sync',
        eventType,
        targets: [
          {
            prisonNumber: nomsNumber,
            request: resync(options, { kind: 'resync', reason: `received (${reason})`, eventId }),
          },
        ],
      };
    }
    case DOMAIN_EVENT.alertCreated:
    case DOMAIN_EVENT.alertUpdated:
    case DOMAIN_EVENT.alertDeleted: {
      const event = parse(dpsAlertEventSchema, json, eventType);
      if (isDecision(event)) return event;
      const noms = event.personReference.identifiers.find((id) => id.type === 'NOMS')?.value;
      if (!noms) {
        return { action: 'dead-letter', reason: `${eventType}: personReference.identifiers has no NOMS identifier` };
      }
      // The prison number names the prisoner's queue: "a1234bc" or a padded one would be a second queue for the
      // same prisoner, and an over-long one a workflow id Temporal refuses.
      const checked = prisonNumberSchema.safeParse(noms);
      if (!checked.success) {
        return {
          action: 'dead-letter',
          reason: `${eventType}: personReference.identifiers NOMS value ${JSON.stringify(noms.slice(0, 40))}: ${checked.error.issues[0]?.message ?? 'invalid'}`,
        };
      }
      const prisonNumber = checked.data;
      const { source, alertUuid } = event.additionalInformation;
      if (source !== 'DPS') {
        return { action: 'skip', eventType, reason: 'not-from-dps', prisonNumber, detail: `source ${source}` };
      }
      const action = ACTIONS[event.eventType];
      const { alertCode } = event.additionalInformation;
      return alertSync(options, eventType, prisonNumber, {
        kind: 'alert',
        reason: `DPS alert ${alertUuid} ${alertCode} ${action.toLowerCase()}`,
        eventId: ids.message,
        change: { direction: 'DPS_TO_NOMIS', action, dpsAlertId: alertUuid, alertCode },
      });
    }
    default:
      return {
        action: 'skip',
        eventType,
        reason: 'unknown-event-type',
        detail: `${eventType} is not handled by this sync`,
      };
  }
}
