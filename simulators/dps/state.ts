import { randomUUID } from 'node:crypto';
import { DOMAIN_EVENT } from '../../common/contract';
import type {
  CreateDpsAlertRequest,
  DpsAlert,
  ResyncAlert,
  ResyncResponse,
  UpdateDpsAlertRequest,
} from '../../common/contract';
import { domainEvent } from '../events';
import type { EventPublisher, SimLog } from '../events';
import { conflict, notFound } from '../http';
import { requireAlertCode } from '../reference-data';
import { localDate, localDateTime } from '../time';

// The DPS side (contract §4): its alerts and the events they publish. DPS derives `isActive` from the dates
// (active from activeFrom, until the day before activeTo), so a stored alert becomes inactive on its own as days
// pass, as in the real service. A resync also honours the ResyncAlert's isActive: NOMIS can hold an alert
// inactive with no expiry date.

export type AlertSource = 'DPS' | 'NOMIS' | 'RESYNC';

interface AlertRecord {
  alertUuid: string;
  prisonNumber: string;
  alertCode: string;
  description: string | null;
  authorisedBy: string | null;
  activeFrom: string;
  activeTo: string | null;
  createdAt: string;
  createdBy: string;
  createdByDisplayName: string;
  lastModifiedAt: string | null;
  lastModifiedBy: string | null;
  lastModifiedByDisplayName: string | null;
  /** A resync of an alert NOMIS holds as inactive without an expiry date: inactive whatever the dates say. */
  deactivated?: boolean;
}

function isActiveOn(alert: { activeFrom: string; activeTo: string | null }, today = localDate()): boolean {
  return alert.activeFrom <= today && (alert.activeTo === null || alert.activeTo > today);
}

export class DpsState {
  private alerts = new Map<string, AlertRecord>();
  /**
   * Each prisoner's alerts, oldest first, as the real service finds them by prison number: without it every
   * resync scanned the whole estate's alerts, and a benchmark's simulator took CPU the orchestrator was measured by.
   */
  private byPrisoner = new Map<string, Map<string, AlertRecord>>();

  constructor(
    private readonly events: EventPublisher,
    private readonly log: SimLog = () => undefined,
  ) {}

  reset(): void {
    this.alerts.clear();
    this.byPrisoner.clear();
  }

  alertsOf(prisonNumber: string): DpsAlert[] {
    return this.recordsOf(prisonNumber).map(toView);
  }

  get(alertUuid: string): DpsAlert {
    const alert = this.alerts.get(alertUuid);
    if (!alert) throw notFound(`Alert ${alertUuid}`);
    return toView(alert);
  }

  dump(): Record<string, DpsAlert[]> {
    const byPrisoner: Record<string, DpsAlert[]> = {};
    for (const alert of this.alerts.values()) (byPrisoner[alert.prisonNumber] ??= []).push(toView(alert));
    return byPrisoner;
  }

  create(prisonNumber: string, request: CreateDpsAlertRequest, source: AlertSource): DpsAlert {
    requireAlertCode(request.alertCode);
    const activeTo = request.activeTo ?? null;
    if (request.isActive !== false && isActiveOn({ activeFrom: request.activeFrom, activeTo })) {
      const duplicate = this.recordsOf(prisonNumber).find(
        (a) => a.alertCode === request.alertCode && !a.deactivated && isActiveOn(a),
      );
      // As in NOMIS, only an active newcomer clashes; inactive history of a code may pile up.
      if (duplicate) {
        throw conflict(`Active alert with code ${request.alertCode} already exists: ${duplicate.alertUuid}`);
      }
    }
    const alert: AlertRecord = {
      alertUuid: randomUUID(),
      prisonNumber,
      alertCode: request.alertCode,
      description: request.description ?? null,
      authorisedBy: request.authorisedBy ?? null,
      activeFrom: request.activeFrom,
      activeTo,
      createdAt: request.createdAt,
      createdBy: request.createdBy,
      createdByDisplayName: request.createdByDisplayName,
      lastModifiedAt: null,
      lastModifiedBy: null,
      lastModifiedByDisplayName: null,
      deactivated: request.isActive === false,
    };
    this.add(alert);
    this.publish(DOMAIN_EVENT.alertCreated, alert, source);
    return toView(alert);
  }

  update(alertUuid: string, request: UpdateDpsAlertRequest, source: AlertSource): DpsAlert {
    const alert = this.alerts.get(alertUuid);
    if (!alert) throw notFound(`Alert ${alertUuid}`);
    const next = {
      description: request.description ?? null,
      authorisedBy: request.authorisedBy ?? null,
      activeFrom: request.activeFrom,
      activeTo: request.activeTo ?? null,
      // Only a caller that says so changes the flag; a DPS user's edit of the dates leaves it as it was.
      deactivated: request.isActive === undefined ? alert.deactivated === true : !request.isActive,
    };
    const changed = (Object.keys(next) as Array<keyof typeof next>).some(
      (field) => (alert[field] ?? false) !== next[field],
    );
    // An update that changes nothing is not an event, as in the real service: no echo for the sync to chase.
    if (!changed) return toView(alert);
    Object.assign(alert, next);
    alert.lastModifiedAt = request.updatedAt ?? localDateTime();
    alert.lastModifiedBy = request.updatedBy ?? (source === 'NOMIS' ? 'SYS' : 'DPS_USER');
    alert.lastModifiedByDisplayName = request.updatedByDisplayName ?? alert.lastModifiedBy;
    this.publish(DOMAIN_EVENT.alertUpdated, alert, source);
    return toView(alert);
  }

  delete(alertUuid: string, source: AlertSource): void {
    const alert = this.alerts.get(alertUuid);
    if (!alert) throw notFound(`Alert ${alertUuid}`);
    this.remove(alert);
    this.publish(DOMAIN_EVENT.alertDeleted, alert, source);
  }

  /**
   * Replaces the prisoner's alerts with `alerts`. An existing alert with the same code and dates survives the
   * replacement (each at most once) with its uuid and audit history, so repeating a resync changes nothing.
   */
  resync(prisonNumber: string, alerts: ResyncAlert[]): ResyncResponse {
    alerts.forEach((alert, i) => requireAlertCode(alert.alertCode, `[${i}].alertCode`));
    const unmatched = new Set(this.recordsOf(prisonNumber));
    const survivors = alerts.map((alert) => {
      const activeTo = alert.activeTo ?? null;
      const survivor = [...unmatched].find(
        (a) => a.alertCode === alert.alertCode && a.activeFrom === alert.activeFrom && a.activeTo === activeTo,
      );
      if (survivor) unmatched.delete(survivor);
      return survivor;
    });
    for (const removed of unmatched) {
      this.remove(removed);
      this.publish(DOMAIN_EVENT.alertDeleted, removed, 'RESYNC');
    }
    const response = alerts.map((alert, i) => {
      const survivor = survivors[i];
      if (survivor) {
        // The text follows NOMIS, which is the master; the identity and audit history stay.
        survivor.description = alert.description ?? null;
        survivor.authorisedBy = alert.authorisedBy ?? null;
        survivor.deactivated = !alert.isActive;
        return { offenderBookId: alert.offenderBookId, alertSeq: alert.alertSeq, alertUuid: survivor.alertUuid };
      }
      const created: AlertRecord = {
        alertUuid: randomUUID(),
        prisonNumber,
        alertCode: alert.alertCode,
        description: alert.description ?? null,
        authorisedBy: alert.authorisedBy ?? null,
        activeFrom: alert.activeFrom,
        activeTo: alert.activeTo ?? null,
        createdAt: alert.createdAt,
        createdBy: alert.createdBy,
        createdByDisplayName: alert.createdByDisplayName,
        lastModifiedAt: alert.lastModifiedAt ?? null,
        lastModifiedBy: alert.lastModifiedBy ?? null,
        lastModifiedByDisplayName: alert.lastModifiedByDisplayName ?? null,
        deactivated: !alert.isActive,
      };
      this.add(created);
      this.publish(DOMAIN_EVENT.alertCreated, created, 'RESYNC');
      return { offenderBookId: alert.offenderBookId, alertSeq: alert.alertSeq, alertUuid: created.alertUuid };
    });
    const kept = survivors.filter(Boolean).length;
    this.log(
      'dps',
      `resync ${prisonNumber}: ${alerts.length} alert(s), ${kept} kept, ${alerts.length - kept} created, ${unmatched.size} deleted`,
    );
    return response;
  }

  private recordsOf(prisonNumber: string): AlertRecord[] {
    return [...(this.byPrisoner.get(prisonNumber)?.values() ?? [])];
  }

  private add(alert: AlertRecord): void {
    this.alerts.set(alert.alertUuid, alert);
    let own = this.byPrisoner.get(alert.prisonNumber);
    if (!own) this.byPrisoner.set(alert.prisonNumber, (own = new Map()));
    own.set(alert.alertUuid, alert);
  }

  private remove(alert: AlertRecord): void {
    this.alerts.delete(alert.alertUuid);
    const own = this.byPrisoner.get(alert.prisonNumber);
    own?.delete(alert.alertUuid);
    if (own?.size === 0) this.byPrisoner.delete(alert.prisonNumber);
  }

  private publish(eventType: string, alert: AlertRecord, source: AlertSource): void {
    const verb = eventType.split('.').pop() ?? 'changed';
    this.events.publish(
      'domainEvents',
      alert.prisonNumber,
      domainEvent(eventType, alert.prisonNumber, `An alert has been ${verb}`, {
        alertUuid: alert.alertUuid,
        alertCode: alert.alertCode,
        source,
      }),
    );
  }
}

function toView(alert: AlertRecord): DpsAlert {
  const code = requireAlertCode(alert.alertCode);
  return {
    alertUuid: alert.alertUuid,
    prisonNumber: alert.prisonNumber,
    alertCode: { code: code.code, description: code.description },
    description: alert.description,
    authorisedBy: alert.authorisedBy,
    activeFrom: alert.activeFrom,
    activeTo: alert.activeTo,
    isActive: !alert.deactivated && isActiveOn(alert),
    createdAt: alert.createdAt,
    createdBy: alert.createdBy,
    createdByDisplayName: alert.createdByDisplayName,
    lastModifiedAt: alert.lastModifiedAt,
    lastModifiedBy: alert.lastModifiedBy,
    lastModifiedByDisplayName: alert.lastModifiedByDisplayName,
  };
}
