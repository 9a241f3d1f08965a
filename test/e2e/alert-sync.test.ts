import { listPrisonerMappings } from '../../adapters/db';
import type { Harness } from '../helpers/harness';
import { invariantViolations, prisonerSyncResult, waitForPrisonerSync } from '../helpers/harness';
import { useHarness } from '../helpers/e2e';
import { randomPrisonNumber } from '../helpers/prisoners';
import { eventually } from '../helpers/stack';

// Alert-level two-way sync (ADR002) on the real stack, driven by NOMIS and DPS users in the simulators.

let harness: Harness;
useHarness('alerts', (started) => (harness = started));

/** A prisoner with a booking and nothing synced yet. */
async function prisoner(): Promise<string> {
  const prisonNumber = randomPrisonNumber();
  await harness.control.createPrisoner({ offenderNo: prisonNumber, alerts: [] });
  return prisonNumber;
}

/** Waits for the sync started after `since`, then for the invariant: the other side has caught up. */
async function settled(prisonNumber: string, since: Date): Promise<void> {
  await waitForPrisonerSync(harness, prisonNumber, since);
  let violations: string[] = [];
  await eventually(async () => {
    violations = await invariantViolations(harness, prisonNumber);
    return violations.length === 0 ? true : undefined;
  }, `${prisonNumber} to be in sync`).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${violations.join('\n')}`);
  });
}

async function eventCounts(prisonNumber: string) {
  const events = await harness.control.events({ key: prisonNumber, limit: 1000 });
  const count = (predicate: (value: Record<string, unknown>) => boolean) =>
    events.filter((e) => predicate(e.value)).length;
  const source = (value: Record<string, unknown>) =>
    (value.additionalInformation as { source?: string } | undefined)?.source;
  return {
    nomisByUsers: count((v) => String(v.eventType).startsWith('ALERT-') && v.auditModuleName === 'OIDALERT'),
    nomisBySync: count((v) => String(v.eventType).startsWith('ALERT-') && v.auditModuleName === 'DPS_SYNCHRONISATION'),
    dpsByUsers: count((v) => String(v.eventType).startsWith('person.alert.') && source(v) === 'DPS'),
    dpsBySync: count((v) => String(v.eventType).startsWith('person.alert.') && source(v) === 'NOMIS'),
  };
}

test('NOMIS -> DPS: a NOMIS alert created, updated and deleted appears, changes and disappears in DPS', async () => {
  const prisonNumber = await prisoner();

  let since = new Date();
  const created = await harness.control.addNomisAlert(prisonNumber, {
    alertCode: 'XA',
    date: '2024-04-01',
    comment: 'lit a fire',
  });
  await settled(prisonNumber, since);
  const [mapping] = await listPrisonerMappings(harness.db, prisonNumber);
  expect(mapping).toMatchObject({
    nomisBookingId: created.bookingId,
    nomisAlertSequence: created.alertSequence,
    mappingType: 'NOMIS_CREATED',
  });
  expect(await harness.apis.dps.getAlert(mapping!.dpsAlertId)).toMatchObject({
    description: 'lit a fire',
    activeFrom: '2024-04-01',
  });

  since = new Date();
  await harness.control.updateNomisAlert(created.bookingId, created.alertSequence, {
    comment: 'lit two fires',
    expiryDate: '2030-01-01',
  });
  await settled(prisonNumber, since);
  expect(await harness.apis.dps.getAlert(mapping!.dpsAlertId)).toMatchObject({
    description: 'lit two fires',
    activeTo: '2030-01-01',
  });

  since = new Date();
  await harness.control.deleteNomisAlert(created.bookingId, created.alertSequence);
  await settled(prisonNumber, since);
  expect(await harness.apis.dps.getPrisonerAlerts(prisonNumber)).toEqual([]);
  expect(await listPrisonerMappings(harness.db, prisonNumber)).toEqual([]);

  // Three user changes in NOMIS, three sync writes to DPS, and not one write back to NOMIS: no echo.
  expect(await eventCounts(prisonNumber)).toEqual({ nomisByUsers: 3, nomisBySync: 0, dpsByUsers: 0, dpsBySync: 3 });
});

test('DPS -> NOMIS: a DPS alert created, updated and deleted appears, changes and disappears in NOMIS', async () => {
  const prisonNumber = await prisoner();

  let since = new Date();
  const created = await harness.control.createDpsAlert(prisonNumber, {
    alertCode: 'HA',
    activeFrom: '2024-05-01',
    description: 'ACCT opened',
  });
  await settled(prisonNumber, since);
  const [mapping] = await listPrisonerMappings(harness.db, prisonNumber);
  expect(mapping).toMatchObject({ dpsAlertId: created.alertUuid, mappingType: 'DPS_CREATED' });
  const nomisAlert = () => harness.apis.nomis.getAlert(mapping!.nomisBookingId, mapping!.nomisAlertSequence);
  expect(await nomisAlert()).toMatchObject({ alertCode: { code: 'HA' }, comment: 'ACCT opened', date: '2024-05-01' });

  since = new Date();
  await harness.control.updateDpsAlert(created.alertUuid, { description: 'ACCT reviewed', authorisedBy: 'Dr Jones' });
  await settled(prisonNumber, since);
  expect(await nomisAlert()).toMatchObject({ comment: 'ACCT reviewed', authorisedBy: 'Dr Jones' });

  since = new Date();
  await harness.control.deleteDpsAlert(created.alertUuid);
  await settled(prisonNumber, since);
  expect((await harness.apis.nomis.getAlertsToMigrate(prisonNumber)).latestBookingAlerts).toEqual([]);
  expect(await listPrisonerMappings(harness.db, prisonNumber)).toEqual([]);

  expect(await eventCounts(prisonNumber)).toEqual({ nomisByUsers: 0, nomisBySync: 3, dpsByUsers: 3, dpsBySync: 0 });
});

test('reordered and duplicated deliveries converge: update before insert waits for it, a repeated insert is a no-op', async () => {
  const prisonNumber = randomPrisonNumber();
  // Seeded alerts publish no events: this test delivers them itself, in the wrong order and twice.
  const { bookings } = await harness.control.createPrisoner({
    offenderNo: prisonNumber,
    alerts: [{ alertCode: 'XSA', date: '2024-06-01', comment: 'assaulted an officer' }],
  });
  const bookingId = bookings[0]!.bookingId;
  const event = (eventType: string) => ({
    key: prisonNumber,
    value: JSON.stringify({
      eventType,
      eventDatetime: '2024-06-20T10:15:30',
      offenderIdDisplay: prisonNumber,
      bookingId,
      alertSeq: 1,
      alertType: 'X',
      alertCode: 'XSA',
      auditModuleName: 'OIDALERT',
    }),
  });
  const since = new Date();
  await harness.producer.send({
    topic: harness.topics.offenderEvents,
    messages: [event('ALERT-UPDATED'), event('ALERT-INSERTED'), event('ALERT-INSERTED')],
  });
  await settled(prisonNumber, since);

  const dps = await harness.apis.dps.getPrisonerAlerts(prisonNumber);
  expect(dps.map((a) => a.alertCode.code)).toEqual(['XSA']);
  const result = await prisonerSyncResult(harness, prisonNumber);
  // The copy is another Kafka message (another offset), so not a redelivery the queue could drop: the sync finds
  // the alert mapped already and changes nothing. The update found no mapping, went back in the queue behind the
  // inserts, and then succeeded.
  expect(result.duplicatesIgnored).toBe(0);
  expect(result.alertSyncs.map((s) => s.outcome)).toEqual(['mapping-missing', 'created', 'skipped', 'updated']);
});

test('a create whose mapping already exists is a no-op (duplicate delivery with other bytes)', async () => {
  const prisonNumber = await prisoner();
  let since = new Date();
  const created = await harness.control.addNomisAlert(prisonNumber, { alertCode: 'RSS', date: '2024-02-02' });
  await settled(prisonNumber, since);

  since = new Date();
  await harness.producer.send({
    topic: harness.topics.offenderEvents,
    messages: [
      {
        key: prisonNumber,
        value: JSON.stringify({
          eventType: 'ALERT-INSERTED',
          eventDatetime: '2024-06-20T11:00:00',
          offenderIdDisplay: prisonNumber,
          bookingId: created.bookingId,
          alertSeq: created.alertSequence,
          auditModuleName: 'OIDALERT',
        }),
      },
    ],
  });
  await settled(prisonNumber, since);
  const result = await prisonerSyncResult(harness, prisonNumber);
  expect(result.alertSyncs).toMatchObject([{ outcome: 'skipped' }]);
  expect(await harness.apis.dps.getPrisonerAlerts(prisonNumber)).toHaveLength(1);
});

test('an update whose create never comes fails visibly after bounded waiting', async () => {
  const prisonNumber = randomPrisonNumber();
  const { bookings } = await harness.control.createPrisoner({
    offenderNo: prisonNumber,
    alerts: [{ alertCode: 'VI', date: '2024-01-01' }],
  });
  const since = new Date();
  await harness.producer.send({
    topic: harness.topics.offenderEvents,
    messages: [
      {
        key: prisonNumber,
        value: JSON.stringify({
          eventType: 'ALERT-UPDATED',
          eventDatetime: '2024-06-20T10:15:30',
          offenderIdDisplay: prisonNumber,
          bookingId: bookings[0]!.bookingId,
          alertSeq: 1,
          auditModuleName: 'OIDALERT',
        }),
      },
    ],
  });
  await waitForPrisonerSync(harness, prisonNumber, since, 90_000);
  const result = await prisonerSyncResult(harness, prisonNumber);
  const last = result.alertSyncs.at(-1);
  expect(last).toMatchObject({ outcome: 'failed', failure: { type: 'MappingNotFound' } });
  expect(result.alertSyncs.filter((s) => s.outcome === 'mapping-missing')).toHaveLength(5);
  expect((await harness.client.workflow.getHandle(last!.workflowId).describe()).status.name).toBe('FAILED');
}, 120_000);
