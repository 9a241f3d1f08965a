import { randomUUID } from 'node:crypto';
import type { MappingView } from '../../activities/mappings';
import type { NomisAlert } from '../../common/contract';
import type { MockActivities } from './env';

// NOMIS, DPS and the mapping table as a test's activities see them: a few maps, and every call in order. Just
// enough for the queue's paths (alert syncs from NOMIS, resyncs from NOMIS); the HTTP clients, SQL and contract
// rules behind the real activities are the e2e project's to show.

export function nomisAlert(bookingId: number, alertSequence: number, alertCode = 'XA'): NomisAlert {
  return {
    bookingId,
    bookingSequence: 1,
    alertSequence,
    alertCode: { code: alertCode, description: alertCode },
    type: { code: 'X', description: 'Security' },
    date: '2024-01-10',
    isActive: true,
    audit: { createUsername: 'NOMIS_USER', createDatetime: '2024-01-10T09:00:00', auditModuleName: 'OIDALERT' },
  };
}

export class FakeSides {
  readonly calls: string[] = [];
  readonly nomis = new Map<string, NomisAlert>();
  readonly dps = new Map<string, string>();
  readonly mappings = new Map<string, MappingView>();
  resyncSource: 'NOMIS' | 'DPS' = 'NOMIS';

  constructor(readonly prisonNumber: string) {}

  addNomisAlert(alert: NomisAlert): void {
    this.nomis.set(`${alert.bookingId}/${alert.alertSequence}`, alert);
  }

  /** The activities, each recording its call as `name key`, overridden one by one where a test says so. */
  activities(overrides: MockActivities = {}): MockActivities {
    const record = (call: string) => void this.calls.push(call);
    const mapped = (dpsAlertId: string, bookingId: number, alertSeq: number, mappingType: MappingView['mappingType']) =>
      this.mappings.set(`${bookingId}/${alertSeq}`, {
        dpsAlertId,
        nomisBookingId: bookingId,
        nomisAlertSequence: alertSeq,
        offenderNo: this.prisonNumber,
        mappingType,
        createdAt: new Date(0).toISOString(),
      });
    const base: MockActivities = {
      findMappingByNomisAlert: async ({ bookingId, alertSeq }) => {
        record(`findMappingByNomisAlert ${bookingId}/${alertSeq}`);
        return this.mappings.get(`${bookingId}/${alertSeq}`) ?? null;
      },
      getNomisAlert: async ({ bookingId, alertSeq }) => {
        record(`getNomisAlert ${bookingId}/${alertSeq}`);
        return this.nomis.get(`${bookingId}/${alertSeq}`) ?? null;
      },
      createDpsAlertFromNomis: async ({ alert }) => {
        record(`createDpsAlertFromNomis ${alert.bookingId}/${alert.alertSequence}`);
        const dpsAlertId = randomUUID();
        this.dps.set(dpsAlertId, alert.alertCode.code);
        return { dpsAlertId, adopted: false };
      },
      createAlertMapping: async (input) => {
        record(`createAlertMapping ${input.nomisBookingId}/${input.nomisAlertSequence}`);
        mapped(input.dpsAlertId, input.nomisBookingId, input.nomisAlertSequence, input.mappingType);
        return 'CREATED';
      },
      updateDpsAlertFromNomis: async ({ dpsAlertId, alert }) => {
        record(`updateDpsAlertFromNomis ${alert.bookingId}/${alert.alertSequence}`);
        return this.dps.has(dpsAlertId) ? 'updated' : 'gone';
      },
      getCurrentBookingAlerts: async ({ prisonNumber }) => {
        record(`getCurrentBookingAlerts ${prisonNumber}`);
        return [...this.nomis.values()];
      },
      resyncDpsAlerts: async ({ prisonNumber, alerts }) => {
        record(`resyncDpsAlerts ${prisonNumber} ${alerts.length}`);
        this.dps.clear();
        return alerts.map((a) => {
          const alertUuid = randomUUID();
          this.dps.set(alertUuid, a.alertCode);
          return { offenderBookId: a.offenderBookId, alertSeq: a.alertSeq, alertUuid };
        });
      },
      replaceMappings: async ({ prisonNumber, mappings }) => {
        record(`replaceMappings ${prisonNumber} ${mappings.length}`);
        const deleted = this.mappings.size;
        this.mappings.clear();
        for (const m of mappings) mapped(m.dpsAlertId, m.nomisBookingId, m.nomisAlertSequence, 'RESYNC');
        return { deleted, inserted: mappings.length };
      },
      resyncSourceInForce: async () => {
        record('resyncSourceInForce');
        return this.resyncSource;
      },
    };
    return { ...base, ...overrides };
  }
}
