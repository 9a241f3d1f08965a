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
  SYNC_AUDIT_MODULE,
} from '../../common/contract';
import { SyncKind } from '../../common/sync-kinds';
import type { ResyncRequest } from '../../workflows/messages';

// Decides what one Kafka message means, without side effects: which prisoners to resync, what to skip and
// count, or why it is dead-lettered. Unit-tested on its own; the router only carries the decision out.

export interface Topics {
  offenderEvents: string;
  domainEvents: string;
}

export interface ResyncTarget {
  prisonNumber: string;
  request: ResyncRequest;
  syncKind: SyncKind;
}

export type SkipReason =
  | 'unknown-event-type'
  | 'received-reason-not-resynced'
  | 'own-change'
  | 'not-from-dps'
  | 'alert-level-sync-not-enabled';

export type RouteDecision =
  | { action: 'resync'; eventType: string; targets: ResyncTarget[] }
  | { action: 'skip'; eventType: string; reason: SkipReason; prisonNumber?: string; detail: string }
  | { action: 'dead-letter'; reason: string };

export function routeMessage(topics: Topics, topic: string, value: Buffer | null): RouteDecision {
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
  const eventId = createHash('sha256').update(topic).update('\0').update(value).digest('hex').slice(0, 24);

  if (topic === topics.offenderEvents) return routeNomisEvent(eventType, json);
  if (topic === topics.domainEvents) return routeDomainEvent(eventType, json, eventId);
  return { action: 'dead-letter', reason: `topic ${topic} is not one the router consumes` };
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

function routeNomisEvent(eventType: string, json: unknown): RouteDecision {
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
  return {
    action: 'skip',
    eventType,
    reason: 'alert-level-sync-not-enabled',
    prisonNumber,
    detail: `NOMIS alert ${event.bookingId}/${event.alertSeq}: alert-level NOMIS->DPS sync is not built yet`,
  };
}

function routeDomainEvent(eventType: string, json: unknown, eventId: string): RouteDecision {
  switch (eventType) {
    case DOMAIN_EVENT.merged: {
      const event = parse(prisonerMergedEventSchema, json, eventType);
      if (isDecision(event)) return event;
      const { nomsNumber, removedNomsNumber } = event.additionalInformation;
      return {
        action: 'resync',
        eventType,
        targets: [
          {
            prisonNumber: nomsNumber,
            syncKind: SyncKind.merge,
            request: {
              reason: `merge of ${removedNomsNumber} into ${nomsNumber}`,
              eventId,
              removedPrisonNumber: removedNomsNumber,
            },
          },
        ],
      };
    }
    case DOMAIN_EVENT.bookingMoved: {
      const event = parse(bookingMovedEventSchema, json, eventType);
      if (isDecision(event)) return event;
      const { bookingId, movedFromNomsNumber: from, movedToNomsNumber: to } = event.additionalInformation;
      const reason = `booking ${bookingId} moved from ${from} to ${to}`;
      return {
        action: 'resync',
        eventType,
        targets: [from, to].map((prisonNumber) => ({
          prisonNumber,
          syncKind: SyncKind.resync,
          request: { reason, eventId },
        })),
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
        action: 'resync',
        eventType,
        targets: [
          { prisonNumber: nomsNumber, syncKind: SyncKind.resync, request: { reason: `received (${reason})`, eventId } },
        ],
      };
    }
    case DOMAIN_EVENT.alertCreated:
    case DOMAIN_EVENT.alertUpdated:
    case DOMAIN_EVENT.alertDeleted: {
      const event = parse(dpsAlertEventSchema, json, eventType);
      if (isDecision(event)) return event;
      const prisonNumber = event.personReference.identifiers.find((id) => id.type === 'NOMS')?.value;
      if (!prisonNumber) {
        return { action: 'dead-letter', reason: `${eventType}: personReference.identifiers has no NOMS identifier` };
      }
      const { source, alertUuid } = event.additionalInformation;
      if (source !== 'DPS') {
        return { action: 'skip', eventType, reason: 'not-from-dps', prisonNumber, detail: `source ${source}` };
      }
      return {
        action: 'skip',
        eventType,
        reason: 'alert-level-sync-not-enabled',
        prisonNumber,
        detail: `DPS alert ${alertUuid}: alert-level DPS->NOMIS sync is not built yet`,
      };
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
